"""Speed benchmark: the HM-AN head against its own arithmetic floor and a
fused LSTM, and a whole Recognizer2D (ResNet) with the HM-AN head against
TSN at one or more frame sizes.

    python tools/benchmark.py [--device cpu|cuda] [--repeats 5] [--warmup 2]
        [--threads N] [--json OUT.json] [--no-memory] [--skip-e2e] [--tiny]
        [--reference] [--compiled] [--cuda-graphs]
        [--head-batch 8 --head-segments 16 --head-channels 2048 --head-map 7
         --head-hidden 512 --head-layers 2]
        [--head-score content|bilinear|location]
        [--e2e-batch 2 --e2e-segments 16 --e2e-size 112 224 --e2e-depth 50
         --e2e-repeats N]

Prints the tables (median milliseconds, ratios, peak memory) and the
targets; ``--json`` writes every figure. The head table has, for every
variant, the work it must do (GFLOP and MB of compulsory traffic, from the
shapes), the floor (that work at the GEMM rate and copy bandwidth measured
in the same run, round-robin with the heads) and ``x floor``: see
:mod:`hman_lab.speed.floor`. What is timed and how memory is measured:
:mod:`hman_lab.speed.cases` and :mod:`hman_lab.speed.timing`. The head
config is the ``cls_head`` of ``--model-config`` (default
``configs/_base_/models/hman_r50.py``, the head of the UCF101 config).
``--device cuda`` prints the same tables (every timed call is bracketed by
``torch.cuda.synchronize``).
``--compiled`` adds the default head on both paths compiled with Inductor
(``torch.compile``'s default backend), ``--cuda-graphs`` (CUDA) the same
heads and the fused LSTM captured in a CUDA graph: rows of the head tables
and the columns of the execution table (see
:mod:`hman_lab.speed.execution`). The program:
:func:`hman_lab.speed.benchmark.run_speed_benchmark`.
"""
import argparse
import os.path as osp
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_lab.speed.benchmark import run_speed_benchmark


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch default)')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--json', default=None, help='write all figures here')
    p.add_argument(
        '--no-memory', action='store_true', help='skip the peak-memory probes')
    p.add_argument('--skip-e2e', action='store_true')
    p.add_argument(
        '--reference',
        action='store_true',
        help='also time the default head on its reference loop')
    p.add_argument(
        '--compiled',
        action='store_true',
        help='also time the default head (fast path and reference loop) '
        'compiled with torch.compile (Inductor)')
    p.add_argument(
        '--cuda-graphs',
        action='store_true',
        help='also time the default head (both paths) and the LSTM '
        'captured in a CUDA graph (CUDA only)')
    p.add_argument(
        '--profile',
        action='store_true',
        help='also print where the default head\'s training step spends '
        'its time (torch.profiler, by category; CPU)')
    p.add_argument(
        '--tiny',
        action='store_true',
        help='tiny sizes: a smoke run of every measurement (minutes, not '
        'seconds: 4.4 min on the project\'s shared 2-core CPU; '
        '--no-memory --repeats 2: what the test runs)')
    p.add_argument(
        '--model-config',
        default=osp.join(REPO, 'configs', '_base_', 'models', 'hman_r50.py'))
    p.add_argument('--num-classes', type=int, default=101)
    p.add_argument('--head-batch', type=int, default=8)
    p.add_argument('--head-segments', type=int, default=16)
    p.add_argument('--head-channels', type=int, default=2048)
    p.add_argument('--head-map', type=int, default=7)
    p.add_argument('--head-hidden', type=int, default=512)
    p.add_argument('--head-layers', type=int, default=2)
    p.add_argument(
        '--head-feat-channels',
        type=int,
        default=None,
        help='1x1 projection C->D (default: the config, 0 = none)')
    p.add_argument(
        '--head-att-channels',
        type=int,
        default=None,
        help='attention hidden size (default: the config)')
    p.add_argument(
        '--head-score',
        default=None,
        choices=('content', 'bilinear', 'location'),
        help='attention score of every HM-AN variant, head and '
        'end-to-end (default: the config)')
    p.add_argument('--e2e-batch', type=int, default=2)
    p.add_argument('--e2e-segments', type=int, default=16)
    p.add_argument(
        '--e2e-size',
        type=int,
        nargs='+',
        default=[112, 224],
        help='frame sides, one table each (default 112 224)')
    p.add_argument(
        '--e2e-repeats',
        type=int,
        default=None,
        help='end-to-end repeats (default: --repeats at the '
        'smallest size, half of it, at least 2, at larger ones)')
    p.add_argument('--e2e-depth', type=int, default=50)
    return p.parse_args(argv)


def main(argv=None):
    return run_speed_benchmark(parse_args(argv))


if __name__ == '__main__':
    main()
