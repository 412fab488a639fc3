"""The GPU check: one command that tells whether the plugin's CUDA lines
work and how fast they are, on one GPU in a few minutes.

    python tools/device_check.py [--out work_dirs/device_check]
        [--parts a b g d k] [--budget 480] [--dry-run]
        [--install-wheels DIR]
    python tools/device_check.py --download-wheels .whl [--device-python 3.12]

Writes ``<out>/report.md`` and ``<out>/report.json`` (also when parts
fail), with the ``acceptance`` block first: every figure of issue 33's
targets T1-T6 next to its target, all measured in the same run
(:mod:`hman_lab.device_check.acceptance`). Parts:

a. the CUDA-only tests (no host sync in the training step, CUDA-graph
   capture on both paths, the ``cuda_graphs`` option against eager,
   replays that survive ``empty_cache()``, float16 autocast numerics):
   pytest on :data:`hman_lab.device_check.parts.CUDA_TESTS`;
b. the head's fast path against its reference loop on CUDA, values and
   gradients, float32 and under float16 and bfloat16 autocast
   (:mod:`hman_lab.device_check.parity`);
g. the head's ``cuda_graphs`` option: 8 views fp32 and 16 views fp16
   autocast, graphed and eager head against the eager and graphed cuDNN
   ``nn.LSTM``, ops per step, peak memory, capture seconds,
   graphed-vs-eager parity, 50 replays with ``empty_cache()`` between
   (:mod:`hman_lab.device_check.graphs`);
d. one epoch (30 full batches of 16, then a smaller one) of
   ``configs/hman_ucf101.py`` at 224 px with ``--amp`` through
   ``tools/train.py``'s code path, with the option (the default) and
   without, and of the TSN config, on generated videos laid out as UCF101:
   median time per iteration, peak GPU memory read by the check itself,
   the head's graph keys and capture seconds
   (:mod:`hman_lab.device_check.short_train`);
k. ``cuda_graphs='compile'``: the first training step (the compile) and
   the median step after it;
c. only when named in ``--parts``: the head tables of ``tools/benchmark.py
   --device cuda --reference``, eager and CUDA graphs, then with the
   compiled (Inductor) rows;
e. every failure with its traceback; one part failing does not stop the
   others.

Every part runs in its own process with a time limit (``--budget`` seconds
for the whole check; the parts' own limits in
:data:`hman_lab.device_check.parts.PARTS`), so a crash, a hung compile or
a CUDA error ends that part only (the program:
:func:`hman_lab.device_check.check.run_device_check`). Without a CUDA
device the check exits with status 2 and says so. ``--dry-run`` runs every
part on the CPU at tiny sizes (what CI runs,
``tests/tools/test_device_check.py``): part a then collects the CUDA
tests and reports them skipped, part b compares float32 and bfloat16 /
float16 autocast on the CPU, part g times the rows eagerly at tiny sizes
(the option says why it runs eagerly), part d trains a few iterations at
32 px in float32, part k is skipped, and the acceptance block holds no
verdict (``met`` null: no GPU).

A machine without the OpenMMLab stack (mmengine, mmcv-lite, mmaction2,
decord and their pure-Python dependencies): put their wheels in a folder
and pass ``--install-wheels DIR`` (``pip install --no-index --find-links
DIR --no-deps DIR/*.whl`` before anything is imported).
``--download-wheels DIR``, run where the project is installed, fills that
folder and runs no part: the binary wheels, for the device's Python
(``--device-python``), of exactly what the GPU image lacks, at the
versions installed here (:mod:`hman_lab.device_check.wheels`).
"""
import argparse
import os.path as osp
import sys

# this checkout's lab; it imports the standard library only until a part
# runs (the stack may be installed by --install-wheels first)
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from hman_lab.device_check.check import DEFAULT_PARTS, ORDER, run_device_check
from hman_lab.device_check.wheels import DEVICE_PYTHON


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default=osp.join('work_dirs', 'device_check'))
    p.add_argument(
        '--parts',
        nargs='+',
        default=list(DEFAULT_PARTS),
        choices=list(ORDER),
        help='parts to run (default: all but c)')
    p.add_argument(
        '--budget',
        type=float,
        default=480,
        help='seconds for the whole check (default 480)')
    p.add_argument(
        '--dry-run',
        action='store_true',
        help='run every part on the CPU at tiny sizes (CI)')
    p.add_argument(
        '--install-wheels',
        default=None,
        metavar='DIR',
        help='first pip install every wheel in DIR (--no-index --no-deps)')
    p.add_argument(
        '--download-wheels',
        default=None,
        metavar='DIR',
        help='only download the wheels that --install-wheels DIR installs '
        'on a GPU machine (the versions installed here), then exit')
    p.add_argument(
        '--device-python',
        default=DEVICE_PYTHON,
        help='with --download-wheels: the Python version of the GPU machine '
        f'(default {DEVICE_PYTHON})')
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    return run_device_check(parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
