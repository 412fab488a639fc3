"""The main job on the embedded demo data (what ``make demo`` runs): data,
a TSN backbone, the HM-AN head on it, the multi-view test; the stages and
how an interrupted demo resumes: :mod:`hman_lab.demo`.

    python tools/demo.py [--config configs/demo/hman_tsn-pretrained_demo.py]
        [--work-dir DIR] [--data-root data/synthetic_actions]
        [--backbone-epochs 10] [--epochs N] [--cfg-options key=value ...]

``--backbone-epochs 0`` skips the backbone stage (a config that trains
from scratch, e.g. ``--config configs/hman_demo.py``).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
# first: says which python to use when this one lacks the plugin
import plugin_environment  # noqa: F401  # isort: skip

from hman_lab.demo import DEMO_CONFIG, run_demo


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=DEMO_CONFIG)
    p.add_argument(
        '--backbone-epochs',
        type=int,
        default=10,
        help='epochs of the TSN whose backbone HM-AN reuses '
        '(0: no pretraining)')
    p.add_argument('--work-dir', default=osp.join('work_dirs', 'hman_demo'))
    p.add_argument(
        '--data-root', default=osp.join('data', 'synthetic_actions'))
    p.add_argument(
        '--epochs',
        type=int,
        default=None,
        help='override train_cfg.max_epochs')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='more key=value overrides for training and testing')
    return p.parse_args(argv)


def main(argv=None):
    return run_demo(parse_args(argv))


if __name__ == '__main__':
    main()
