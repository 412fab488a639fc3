"""The main job on the embedded demo data (what ``make demo`` runs): HM-AN
trained in the paper's regime, a recurrent attention head on a pretrained
CNN (recipe (a), docs/training_recipes.md).

1. generate the order-dependent synthetic actions into
   ``data/synthetic_actions`` if they are not there yet
   (``tools/data/make_synthetic_actions.py``);
2. pretrain the backbone: TSN (``configs/demo/tsn_demo.py``) trained on the
   same videos for ``--backbone-epochs`` (``tools/train.py``);
3. train the HM-AN head on that frozen backbone
   (``configs/demo/hman_tsn-pretrained_demo.py`` with ``load_from``);
4. test the best checkpoint with the multi-view protocol (``tools/test.py
   --dump``) and print top-1 and the order accuracy (true class vs its
   order-swapped twin: ~50 % for an order-blind model such as TSN).

    python tools/demo.py [--config configs/demo/hman_tsn-pretrained_demo.py]
        [--work-dir DIR] [--data-root data/synthetic_actions]
        [--backbone-epochs 10] [--epochs N] [--cfg-options key=value ...]

``--backbone-epochs 0`` skips step 2 and 3's ``load_from`` (a config that
trains from scratch, e.g. ``--config configs/hman_demo.py``).

Existing demo data are reused only if they are the data this demo makes
(``meta.json``: generator version, spec, counts, seed), else regenerated.
An interrupted demo resumes its stages: finished ones are reused, a
training stopped mid-way continues from its last checkpoint
(``tools/train.py --resume``); every training stage saves a checkpoint
every epoch. Ctrl-C stops the running stage (started in its own session,
so the terminal's interrupt reaches only the demo, which stops it) and
prints one line saying how to continue. The stages' settings (data, config,
epochs, options) are kept in ``WORK_DIR/demo_stages.json``; after a change
the old work dir is moved aside (``WORK_DIR.stale-<time>``), never mixed.
The program: :func:`hman_lab.demo.run_demo`.
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
