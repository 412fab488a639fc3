"""Epoch time of head training from the feature cache vs end to end with
the frozen backbone, on the same clips, measured side by side.

    python tools/benchmark_cache.py [--clips 32] [--size 224 112]
        [--frames 8] [--batch-size 16] [--rounds 3] [--threads 1]
        [--work-dir DIR] [--json OUT]

Both sides train the same HM-AN head (configs/_base_/models/hman_r50.py:
2048 -> 512 projection, 2-layer HM-LSTM of 512) with ``model.train_step``
(the step mmengine's train loop runs) over one epoch of ``--clips``
synthetic videos of ``--size`` px (ResNet-50 maps of size/32):

* end to end: decode + ResNet-50 (random init, ``frozen_stages=4``,
  ``norm_eval``: eval mode, no gradients) + head;
* cached: ``CachedFeatureDataset`` (float16 memmap) + head.

Rounds alternate the two so both see the same machine load; per size the
min and median epoch time of each side and their ratios are printed, with
the one-time extraction cost and the number of epochs after which the
cache has paid for itself, then every size side by side against the
targets (:data:`hman_lab.speed.cache.TARGETS`: speed-up of the median;
met or not). Data loading runs in the main process (``num_workers=0``) on
both sides. The program: :func:`hman_lab.speed.cache.run_cache_benchmark`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_lab.speed.cache import run_cache_benchmark


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--clips', type=int, default=32, help='training videos')
    p.add_argument(
        '--size',
        type=int,
        nargs='+',
        default=[224, 112],
        help='frame sides, measured one after the other in this run')
    p.add_argument('--frames', type=int, default=8, help='segments per clip')
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument(
        '--rounds', type=int, default=3, help='epochs per side, interleaved')
    p.add_argument(
        '--threads', type=int, default=1, help='torch threads for both sides')
    p.add_argument(
        '--work-dir',
        default=None,
        help='data + store folder (default: a temporary one)')
    p.add_argument('--json', default=None, help='write every figure here')
    return p.parse_args(argv)


def main(argv=None):
    return run_cache_benchmark(parse_args(argv))


if __name__ == '__main__':
    main()
