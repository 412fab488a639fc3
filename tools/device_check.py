"""The GPU check: one command that tells whether the plugin's CUDA lines
work and how fast they are, on one GPU in a few minutes.

    python tools/device_check.py [--out work_dirs/device_check]
        [--parts a b c d] [--budget 420] [--dry-run]
        [--install-wheels DIR]

Writes ``<out>/report.md`` and ``<out>/report.json`` (also when parts fail):

a. the CUDA-only tests (no host sync in the training step, CUDA-graph
   capture on both paths, float16 autocast numerics): pytest on
   :data:`hman_lab.device_check.parts.CUDA_TESTS`, one row per test;
b. the head's fast path against its reference loop on CUDA, values and
   gradients, float32 and under float16 and bfloat16 autocast
   (:mod:`hman_lab.device_check.parity`);
c. the head tables of ``tools/benchmark.py --device cuda --reference``:
   time, x floor (the GPU's own GEMM rate and copy bandwidth, measured in
   the same run), x cuDNN ``nn.LSTM``; eager and CUDA graphs first, then
   again with the compiled (Inductor) rows, so that a compile that runs out
   of time leaves the eager table;
d. 30 training iterations of ``configs/hman_ucf101.py`` at 224 px with
   ``--amp`` on generated videos laid out as UCF101, and of the TSN config
   on the same data: loss finite and falling, peak GPU memory, iterations
   per second (:mod:`hman_lab.device_check.short_train`);
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
float16 autocast on the CPU, part c runs
the tiny benchmark without the compiled rows (Inductor compiles for
minutes on a small CPU; ``tests/models/test_inductor.py`` covers it) and
part d trains a few iterations at 64 px in float32.

A machine without the OpenMMLab stack (mmengine, mmcv-lite, mmaction2,
decord and their pure-Python dependencies): put their wheels in a folder
and pass ``--install-wheels DIR`` (``pip install --no-index --find-links
DIR --no-deps DIR/*.whl`` before anything is imported).
"""
import argparse
import os.path as osp
import sys

# this checkout's lab; it imports the standard library only until a part
# runs (the stack may be installed by --install-wheels first)
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from hman_lab.device_check.check import ORDER, run_device_check


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default=osp.join('work_dirs', 'device_check'))
    p.add_argument(
        '--parts',
        nargs='+',
        default=list(ORDER),
        choices=list(ORDER),
        help='parts to run (default all)')
    p.add_argument(
        '--budget',
        type=float,
        default=420,
        help='seconds for the whole check (default 420)')
    p.add_argument(
        '--dry-run',
        action='store_true',
        help='run every part on the CPU at tiny sizes (CI)')
    p.add_argument(
        '--install-wheels',
        default=None,
        metavar='DIR',
        help='first pip install every wheel in DIR (--no-index --no-deps)')
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    return run_device_check(parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
