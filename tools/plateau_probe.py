"""Does a from-scratch run leave the initial plateau, and how: the first
``--epochs`` of the end-to-end recipe (the 4-epoch schedule's learning
rate, so epoch 1 is exactly the first epoch of the benchmark's run), per
seed, on the accuracy benchmark's flat task.

    python tools/plateau_probe.py configs/demo/hman-hard-att_scratch_demo.py
        [--seeds 0 1 2] [--epochs 1] [--schedule-epochs 4]
        [--name NAME] [--head-options K=V ...] [--data-seed 0]
        [--data-root DIR]

Runs ``tools/train.py`` (one torch thread, one run at a time) with the
benchmark's data (``tools/benchmark_accuracy.py`` generates it if missing)
and prints per seed: the plateau exit (first logged iteration with
``loss_cls < 0.9 ln C``, as the benchmark), ``loss_cls`` / ``loss_aux``
and the attention's entropy ``att_entropy`` / temperature ``tau_att``
averaged over the first 25 iterations and over the last 25 logged, and the
gradient norm (``grad_norm``, before clipping) over the run. The
program: :func:`hman_lab.accuracy.probes.run_plateau_probe`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import hman_mmaction  # noqa: F401  (compat fixes)
from hman_lab.accuracy.probes import run_plateau_probe


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--epochs', type=int, default=1)
    p.add_argument(
        '--schedule-epochs',
        type=int,
        default=4,
        help='the schedule (cosine decay) of the full run')
    p.add_argument('--name', default=None, help='run folder name')
    p.add_argument('--head-options', nargs='+', default=[])
    p.add_argument('--data-seed', type=int, default=0)
    p.add_argument(
        '--data-root',
        default=None,
        help='default: the benchmark\'s (data/benchmark_accuracy), '
        'with a _data-seed<N> suffix for another data seed')
    p.add_argument(
        '--work-dir', default=osp.join('work_dirs', 'plateau_probe'))
    return p.parse_args(argv)


def main(argv=None):
    return run_plateau_probe(parse_args(argv))


if __name__ == '__main__':
    main()
