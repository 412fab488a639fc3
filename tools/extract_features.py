"""Extract the frozen backbone features of a recognizer config once, into a
memory-mapped feature store that cached-feature configs (configs/cached/)
train and test heads on.

    python tools/extract_features.py CONFIG [CHECKPOINT] --out DIR
        [--splits train val test] [--views K] [--seed 0] [--batch-size 8]
        [--dtype float16] [--workers 0] [--cfg-options k=v ...]

Rerunning the same command resumes an interrupted extraction (or does
nothing if complete); a store made by another backbone / pipeline is
refused. See hman_mmaction/features/extract.py.
"""
import argparse

from mmengine.config import DictAction

import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_mmaction.engine.launch import check_output_folder
from hman_mmaction.features import extract_features
from hman_mmaction.features.extract import SPLITS
from hman_mmaction.features.store import DTYPES


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='end-to-end recognizer config')
    p.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint with the backbone weights (omit: the '
        "config's own init, e.g. ImageNet-pretrained)")
    p.add_argument('--out', required=True, help='feature store directory')
    p.add_argument('--splits', nargs='+', default=list(SPLITS), choices=SPLITS)
    p.add_argument(
        '--views',
        type=int,
        default=1,
        help='augmented samplings per training video (train '
        'pipeline run K times, seeded)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument(
        '--batch-size',
        type=int,
        default=8,
        help='clips per backbone batch (and per commit)')
    p.add_argument('--dtype', default='float16', choices=DTYPES)
    p.add_argument(
        '--workers', type=int, default=0, help='data loading processes')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    check_output_folder(args.out, '--out')  # before building the model
    store = extract_features(
        args.config,
        args.checkpoint,
        args.out,
        splits=args.splits,
        views=args.views,
        seed=args.seed,
        batch_size=args.batch_size,
        dtype=args.dtype,
        num_workers=args.workers,
        cfg_options=args.cfg_options,
        progress=not args.quiet)
    for split, summary in store.summary().items():
        print(f'{split}: {summary}')
    print(f'feature store: {store.root}')
    return store


if __name__ == '__main__':
    main()
