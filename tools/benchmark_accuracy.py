"""Accuracy benchmark on the order-dependent synthetic actions: both training
recipes x {HM-AN soft, HM-AN Gumbel-hard, Att-LSTM, TSN} x seeds, on the
flat 12-class task and on its hierarchical variant.

    python tools/benchmark_accuracy.py [--seeds 0 1 2] [--jobs 2]
        [--recipes pretrained scratch] [--tasks flat hierarchical]
        [--scratch-tasks flat]
        [--models hman_soft hman_hard attlstm tsn] [--data-seed 0]
        [--work-dir work_dirs/benchmark_accuracy] [--out results.md]
        [--cfg-options K=V ...] [--head-options K=V ...]

Recipes (docs/benchmarks.md):

* ``pretrained`` (the paper's regime): a TSN is trained end to end on the
  task's videos (``configs/demo/tsn_demo.py``, ``--pretrain-epochs``), its
  frozen backbone features are extracted once into a feature store
  (``tools/extract_features.py``) and every head is trained on them
  (``configs/cached/...``, ``--head-epochs``);
* ``scratch``: every model end to end from a random backbone
  (``configs/hman_demo.py`` and siblings, ``--scratch-epochs``).

Every run is ``tools/train.py`` + ``tools/test.py --dump`` in a subprocess
with one torch thread, ``--jobs`` of them at a time; a finished run is
reused. What each run reports (top-1, order accuracy, plateau exit,
boundary and attention scores) and the program:
:mod:`hman_lab.accuracy.benchmark`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import hman_mmaction  # noqa: F401  (compat fixes)
from hman_lab.accuracy.benchmark import (DATA_DEFAULTS, DEFAULT_MODELS, LEVERS,
                                         MODELS, RECIPES, TASKS,
                                         run_accuracy_benchmark)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        '--recipes', nargs='+', choices=RECIPES, default=list(RECIPES))
    p.add_argument('--tasks', nargs='+', choices=TASKS, default=list(TASKS))
    p.add_argument(
        '--scratch-tasks',
        nargs='+',
        choices=TASKS,
        default=['flat'],
        help='tasks that also run the scratch recipe (the slow '
        'one; default: the flat task only)')
    p.add_argument(
        '--models',
        nargs='+',
        choices=sorted(MODELS),
        default=DEFAULT_MODELS,
        help='default: every model but the boundary levers ('
        f'{", ".join(LEVERS)})')
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument(
        '--jobs',
        type=int,
        default=2,
        help='runs at a time (one torch thread each)')
    p.add_argument(
        '--data-seed',
        type=int,
        default=DATA_DEFAULTS['data_seed'],
        help='seed of the generated videos (and of the TSN '
        'that the pretrained recipe starts from)')
    p.add_argument(
        '--pretrain-epochs',
        type=int,
        default=10,
        help='epochs of the TSN whose backbone is reused')
    p.add_argument(
        '--head-epochs',
        type=int,
        default=4,
        help='epochs of each head on the feature cache')
    p.add_argument(
        '--scratch-epochs',
        type=int,
        default=4,
        help='epochs of each end-to-end run from scratch')
    p.add_argument(
        '--train',
        type=int,
        default=DATA_DEFAULTS['train'],
        help='train videos')
    p.add_argument(
        '--head-train-videos',
        type=int,
        default=None,
        help='pretrained recipe: train the heads on the first N training '
        'videos of the feature store only (the TSN backbone still sees all '
        '--train videos): a learning curve over videos per class')
    p.add_argument(
        '--test', type=int, default=DATA_DEFAULTS['test'], help='test videos')
    p.add_argument(
        '--batch-size', type=int, default=DATA_DEFAULTS['batch_size'])
    p.add_argument(
        '--workers',
        type=int,
        default=DATA_DEFAULTS['workers'],
        help='data loading processes per run')
    p.add_argument(
        '--spec',
        nargs='+',
        default=[],
        metavar='FIELD=VALUE',
        help='override fields of both tasks\' video spec, e.g. '
        'num_frames=16 (a tiny smoke run)')
    p.add_argument('--data-root', default=DATA_DEFAULTS['data_root'])
    p.add_argument(
        '--work-dir', default=osp.join('work_dirs', 'benchmark_accuracy'))
    p.add_argument(
        '--out',
        default=None,
        help='markdown tables (default WORK_DIR/results.md)')
    p.add_argument(
        '--json',
        default=None,
        help='every number (default WORK_DIR/results.json)')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='extra key=value overrides for every run')
    p.add_argument(
        '--head-options',
        nargs='+',
        default=[],
        help='key=value overrides for the recurrent heads\' runs only (not '
        'TSN, not the pretraining), e.g. model.cls_head.attention.score='
        'bilinear: an ablation beside the main run in the same --work-dir')
    return p.parse_args(argv)


def main(argv=None):
    return run_accuracy_benchmark(parse_args(argv))


if __name__ == '__main__':
    main()
