"""Generate the embedded demo data: order-dependent synthetic action videos.

    python tools/data/make_synthetic_actions.py data/synthetic_actions \
        [--train 960] [--val 192] [--test 384] [--seed 0] [--size 64]
        [--num-frames 32] [--lengths 2 3] [--distractors 2] ...

    # the hierarchical variant (docs/boundaries.md): 2-4 motions per action,
    # 48 frames of 32 px; sample it with 16 segments
    python tools/data/make_synthetic_actions.py data/synthetic_hier \
        --preset hierarchical [--max-classes 24] [--stroke 4] ...

Writes real mp4 files and mmaction2 ``VideoDataset`` annotation lists
(``<root>/{train,val,test}_list_videos.txt``) with their ground-truth
segments (``<root>/{train,val,test}_segments.json``), see
:mod:`hman_mmaction.datasets.synthetic_actions`. Flags that are not given
keep the preset's value (``--preset default``: the 12-class demo data).
"""
import argparse
import os.path as osp

import hman_mmaction  # noqa: F401  (compat fixes before mmengine imports)
from hman_mmaction.datasets.synthetic_actions import (
    DEMO_COUNTS, DEMO_SEED, HIERARCHICAL_NUM_SEGMENTS, MOTIONS,
    SyntheticActionSpec, generate_dataset, hierarchical_spec)

PRESETS = dict(default=SyntheticActionSpec, hierarchical=hierarchical_spec)
# flag -> SyntheticActionSpec field
FIELDS = dict(
    size='size',
    num_frames='num_frames',
    fps='fps',
    motions='motions',
    lengths='lengths',
    distractors='num_distractors',
    object_size='object_size',
    trail='trail',
    min_segment='min_segment',
    max_segment='max_segment',
    max_classes='max_classes',
    stroke='stroke',
    stroke_pause='stroke_pause',
    test_min_segment='test_min_segment',
    test_max_segment='test_max_segment')


def parse_args(argv=None):
    spec = SyntheticActionSpec()
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], argument_default=argparse.SUPPRESS)
    p.add_argument('root', help='output folder (e.g. data/synthetic_actions)')
    p.add_argument(
        '--preset',
        choices=sorted(PRESETS),
        default='default',
        help='base settings the other flags change')
    p.add_argument(
        '--train', type=int, default=DEMO_COUNTS['train'], help='train videos')
    p.add_argument(
        '--val', type=int, default=DEMO_COUNTS['val'], help='val videos')
    p.add_argument(
        '--test', type=int, default=DEMO_COUNTS['test'], help='test videos')
    p.add_argument('--seed', type=int, default=DEMO_SEED)
    p.add_argument('--size', type=int, help=f'frame side ({spec.size})')
    p.add_argument(
        '--num-frames', type=int, help=f'frames per video ({spec.num_frames})')
    p.add_argument('--fps', type=int, help=f'({spec.fps})')
    p.add_argument(
        '--motions',
        nargs='+',
        choices=sorted(MOTIONS),
        help=f'({" ".join(spec.motions)})')
    p.add_argument(
        '--lengths',
        nargs='+',
        type=int,
        help='motions per action: 2, 3 and/or 4 (2)')
    p.add_argument('--distractors', type=int, help=f'({spec.num_distractors})')
    p.add_argument('--object-size', type=int, help=f'({spec.object_size})')
    p.add_argument('--trail', type=int, help=f'({spec.trail})')
    p.add_argument(
        '--min-segment',
        type=float,
        help='shortest motion, share of the video '
        f'({spec.min_segment})')
    p.add_argument(
        '--max-segment',
        type=float,
        help='longest motion, share of the video (1.0)')
    p.add_argument(
        '--max-classes',
        type=int,
        help='keep a fixed subset of this many classes, '
        'order-swapped pairs kept together (all)')
    p.add_argument(
        '--stroke',
        type=int,
        help='> 0: each motion is strokes of this many moving '
        'frames separated by pauses (0: off)')
    p.add_argument(
        '--stroke-pause',
        type=int,
        help='still frames after each stroke '
        f'({spec.stroke_pause})')
    p.add_argument(
        '--test-min-segment',
        type=float,
        help='shortest motion of the test split (as training)')
    p.add_argument(
        '--test-max-segment',
        type=float,
        help='longest motion of the test split (as training)')
    p.add_argument(
        '--quiet', action='store_true', default=False, help='no progress bar')
    return p.parse_args(argv)


def spec_from_args(args) -> SyntheticActionSpec:
    """The preset's spec with the fields of the flags given."""
    given = {
        field: getattr(args, flag)
        for flag, field in FIELDS.items() if hasattr(args, flag)
    }
    for key in ('motions', 'lengths'):
        if key in given:
            given[key] = tuple(given[key])
    return PRESETS[args.preset](**given)


def main(argv=None):
    args = parse_args(argv)
    spec = spec_from_args(args)
    counts = dict(train=args.train, val=args.val, test=args.test)
    dataset = generate_dataset(
        args.root, counts, spec, seed=args.seed, progress=not args.quiet)
    print(f'{sum(counts.values())} videos of {len(dataset.classes)} classes '
          f'in {osp.abspath(args.root)}')
    if args.preset == 'hierarchical':
        print(f'sample them with {HIERARCHICAL_NUM_SEGMENTS} segments '
              f'(num_segments) and num_classes={len(dataset.classes)}, see '
              'docs/boundaries.md')
    return dataset


if __name__ == '__main__':
    main()
