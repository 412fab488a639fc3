"""Train and test a set of configs (cached-feature or end-to-end) for
several seeds and write one ablation table (mean ± std test top-1/top-5,
head parameters, head time per clip) as markdown plus a json.

    python tools/ablate.py CONFIG [CONFIG ...] --seeds 3 --out TABLE.md
        [--work-dir work_dirs/ablate] [--feature-store DIR]
        [--cfg-options k=v ...] [--rerun] [--threads N]

    # the whole demo ablation grid from the cache, after `python tools/demo.py`
    python tools/ablate.py --cached-grid --seeds 3 \
        --out work_dirs/ablate/demo_grid.md

``--cached-grid`` extracts (or resumes, or reuses) the feature store of the
trained demo backbone (``--checkpoint``, default the newest
``work_dirs/hman_demo/best_*.pth``) into ``--feature-store`` (default
``work_dirs/feature_cache/hman_demo``) and runs every config of
configs/cached/ (HM-AN, Att-LSTM, TSN and the demo ablations). The
program: :func:`hman_lab.accuracy.ablation.run_ablation`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction

import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_lab.accuracy.ablation import DEMO_STORE, run_ablation


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('configs', nargs='*', help='config files')
    p.add_argument(
        '--seeds',
        type=int,
        default=3,
        help='run seeds 0..N-1 of every config')
    p.add_argument(
        '--out',
        required=True,
        help='markdown table (the json '
        'goes next to it); relative paths here and in CONFIG, '
        '--work-dir and --feature-store are taken from the '
        'repository root, where the tool runs')
    p.add_argument('--work-dir', default='work_dirs/ablate')
    p.add_argument(
        '--feature-store',
        default=None,
        help='store of the cached configs (default: theirs; '
        f'{DEMO_STORE} for --cached-grid)')
    p.add_argument(
        '--cached-grid',
        action='store_true',
        help='the demo grid from the cache (see above)')
    p.add_argument(
        '--checkpoint',
        default=None,
        help='--cached-grid: the demo backbone checkpoint')
    p.add_argument(
        '--views',
        type=int,
        default=4,
        help='--cached-grid: stored samplings per train video')
    p.add_argument(
        '--rerun',
        action='store_true',
        help='retrain runs that already have results')
    p.add_argument('--timing-repeats', type=int, default=5)
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch threads for training and testing (default: '
        "torch's; 1 is often faster on a busy shared CPU)")
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='key=value overrides for every config')
    return p.parse_args(argv)


def main(argv=None):
    return run_ablation(parse_args(argv))


if __name__ == '__main__':
    main()
