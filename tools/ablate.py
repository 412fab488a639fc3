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
configs/cached/ (HM-AN, Att-LSTM, TSN and the demo ablations).
"""
import argparse
import glob
import os
import os.path as osp

import torch
from mmengine.config import DictAction

import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_mmaction.features import extract_features
from hman_mmaction.features.ablation import ablate

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = 'configs/hman_demo.py'
DEMO_STORE = 'work_dirs/feature_cache/hman_demo'
# configs/cached/demo/hman-hard-att_demo.py is the same model as
# ablations/hman-hard-att_demo.py, so the grid runs it once.
GRID = [
    'configs/cached/hman_demo.py', 'configs/cached/demo/attlstm_demo.py',
    'configs/cached/demo/tsn_demo.py'
] + sorted(glob.glob(osp.join(REPO, 'configs/cached/demo/ablations/*.py')))


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


def demo_checkpoint(path=None):
    if path is not None:
        return path
    found = sorted(
        glob.glob('work_dirs/hman_demo/best_*.pth'), key=osp.getmtime)
    if not found:
        raise SystemExit(
            'no trained demo backbone (work_dirs/hman_demo/best_*.pth): run '
            '`python tools/demo.py` first, or pass --checkpoint')
    return found[-1]


def main(argv=None):
    args = parse_args(argv)
    if args.out:  # before the extraction and the runs, not after them
        from hman_mmaction.engine.launch import check_output_file
        check_output_file(args.out, '--out')
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    configs = list(args.configs)
    store = args.feature_store
    if args.cached_grid:
        store = store or DEMO_STORE
        extract_features(
            DEMO_CONFIG,
            demo_checkpoint(args.checkpoint),
            store,
            views=args.views)
        configs += [osp.relpath(c, REPO) if osp.isabs(c) else c for c in GRID]
    if not configs:
        raise SystemExit('give config files or --cached-grid')
    return ablate(
        configs,
        args.seeds,
        args.out,
        work_dir=args.work_dir,
        cfg_options=args.cfg_options,
        feature_store=store,
        rerun=args.rerun,
        timing_repeats=args.timing_repeats)


if __name__ == '__main__':
    os.chdir(REPO)
    main()
