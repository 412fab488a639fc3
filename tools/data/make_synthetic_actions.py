"""Generate the embedded demo data: order-dependent synthetic action videos.

    python tools/data/make_synthetic_actions.py data/synthetic_actions \
        [--train 960] [--val 192] [--test 384] [--seed 0] [--size 64]
        [--num-frames 32] [--lengths 2 3] [--distractors 2] ...

Writes real mp4 files and mmaction2 ``VideoDataset`` annotation lists
(``<root>/{train,val,test}_list_videos.txt``), see
:mod:`hman_mmaction.datasets.synthetic_actions`.
"""
import argparse
import os.path as osp

import hman_mmaction  # noqa: F401  (compat fixes before mmengine imports)
from hman_mmaction.datasets.synthetic_actions import (MOTIONS,
                                                      SyntheticActionSpec,
                                                      generate_dataset)


def parse_args(argv=None):
    spec = SyntheticActionSpec()
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('root', help='output folder (e.g. data/synthetic_actions)')
    p.add_argument('--train', type=int, default=960, help='train videos')
    p.add_argument('--val', type=int, default=192, help='val videos')
    p.add_argument('--test', type=int, default=384, help='test videos')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--size', type=int, default=spec.size, help='frame side')
    p.add_argument('--num-frames', type=int, default=spec.num_frames)
    p.add_argument('--fps', type=int, default=spec.fps)
    p.add_argument('--motions', nargs='+', choices=sorted(MOTIONS),
                   default=list(spec.motions))
    p.add_argument('--lengths', nargs='+', type=int,
                   default=list(spec.lengths),
                   help='motions per action: 2 and/or 3')
    p.add_argument('--distractors', type=int, default=spec.num_distractors)
    p.add_argument('--object-size', type=int, default=spec.object_size)
    p.add_argument('--trail', type=int, default=spec.trail)
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    spec = SyntheticActionSpec(
        size=args.size,
        num_frames=args.num_frames,
        fps=args.fps,
        motions=tuple(args.motions),
        lengths=tuple(args.lengths),
        object_size=args.object_size,
        num_distractors=args.distractors,
        trail=args.trail)
    counts = dict(train=args.train, val=args.val, test=args.test)
    dataset = generate_dataset(
        args.root, counts, spec, seed=args.seed, progress=not args.quiet)
    print(f'{sum(counts.values())} videos of {len(dataset.classes)} classes '
          f'in {osp.abspath(args.root)}')
    return dataset


if __name__ == '__main__':
    main()
