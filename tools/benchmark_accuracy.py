"""Accuracy benchmark on the order-dependent synthetic actions: HM-AN (soft),
HM-AN (Gumbel-hard attention + adaptive tau), the Att-LSTM baseline and TSN
on the identical backbone, data and schedule, over several seeds.

    python tools/benchmark_accuracy.py [--seeds 0 1 2] [--epochs 9]
        [--models hman_soft hman_hard attlstm tsn]
        [--lengths 2] [--train 1200 --test 480 --size 32 --object-size 4]
        [--data-root data/benchmark_accuracy] [--work-dir work_dirs/...]
        [--out results.md] [--json results.json]

1. generates the videos (``hman_mmaction.datasets.synthetic_actions``) unless
   ``--data-root`` already holds the same settings;
2. for every model and seed: ``tools/train.py CONFIG --seed S --no-validate``
   with ``--cfg-options`` for the data, the epochs and the cosine schedule,
   then ``tools/test.py`` on the last checkpoint with ``--dump``;
3. scores the dumped predictions: top-1, top-1 on the classes of
   order-swapped pairs and the order accuracy (true class vs its swapped
   twin, ~50% for an order-blind model), see
   :mod:`hman_mmaction.benchmark.accuracy`; writes a markdown table and a
   json with every run.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)
sys.path.insert(0, REPO)

import hman_mmaction  # noqa: E402,F401  (compat fixes)
from hman_mmaction.benchmark.accuracy import (  # noqa: E402
    load_dump, markdown_table, pair_accuracy, zoo_table)
from hman_mmaction.datasets.synthetic_actions import (  # noqa: E402
    SyntheticActionSpec, class_names, config_overrides, generate_dataset,
    order_swapped_pairs, stale_reason)

MODELS = {
    'hman_soft': ('HM-AN (soft attention)', 'configs/hman_demo.py'),
    'hman_hard': ('HM-AN (Gumbel-hard attention + adaptive tau)',
                  'configs/demo/hman-hard-att_demo.py'),
    'attlstm': ('Att-LSTM (NoBoundary)', 'configs/demo/attlstm_demo.py'),
    'tsn': ('TSN', 'configs/demo/tsn_demo.py'),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', choices=sorted(MODELS),
                   default=list(MODELS))
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--epochs', type=int, default=9)
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--workers', type=int, default=1)
    p.add_argument('--lengths', nargs='+', type=int, default=[2],
                   help='motions per action (2 and/or 3; 2 3 = 48 classes)')
    p.add_argument('--train', type=int, default=1200, help='train videos')
    p.add_argument('--test', type=int, default=480, help='test videos')
    p.add_argument('--size', type=int, default=32,
                   help='frame side (the demo: 64)')
    p.add_argument('--num-frames', type=int, default=32)
    p.add_argument('--object-size', type=int, default=4,
                   help='target and distractor side (the demo: 8)')
    p.add_argument('--distractors', type=int, default=2)
    p.add_argument('--data-seed', type=int, default=0)
    p.add_argument('--data-root',
                   default=osp.join('data', 'benchmark_accuracy'))
    p.add_argument('--work-dir',
                   default=osp.join('work_dirs', 'benchmark_accuracy'))
    p.add_argument('--out', default=None,
                   help='markdown table (default WORK_DIR/results.md)')
    p.add_argument('--json', default=None,
                   help='all figures (default WORK_DIR/results.json)')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='extra key=value overrides for every run')
    return p.parse_args(argv)


def spec_from(args) -> SyntheticActionSpec:
    return SyntheticActionSpec(
        size=args.size, num_frames=args.num_frames,
        lengths=tuple(args.lengths), object_size=args.object_size,
        num_distractors=args.distractors)


def ensure_data(args, spec):
    """Generate the videos unless ``--data-root`` holds the same
    settings made by this generator version."""
    counts = dict(train=args.train, val=min(args.test, 8), test=args.test)
    reason = stale_reason(args.data_root, spec, counts, args.data_seed)
    if reason is None:
        print(f'data: reusing {args.data_root}', flush=True)
        return
    print(f'data: generating {sum(counts.values())} videos into '
          f'{args.data_root} ({reason})', flush=True)
    generate_dataset(args.data_root, counts, spec, seed=args.data_seed)


def data_options(args, num_classes):
    return config_overrides(args.data_root, batch_size=args.batch_size,
                            workers=args.workers, num_classes=num_classes)


def schedule_options(epochs):
    """Epochs, the cosine decay over them (``param_scheduler[1]`` of
    ``configs/hman_demo.py``), one checkpoint at the end."""
    return [
        f'train_cfg.max_epochs={epochs}',
        f'param_scheduler.1.T_max={epochs}',
        f'param_scheduler.1.end={epochs}',
        f'default_hooks.checkpoint.interval={epochs}',
        'default_hooks.checkpoint.save_best=None',
        'default_hooks.logger.interval=10',
    ]


def run(command, log_path):
    """Run a tool, its output to ``log_path``; raise with the tail on
    failure."""
    with open(log_path, 'w') as log:
        result = subprocess.run(command, cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT)
    if result.returncode:
        with open(log_path) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'{" ".join(command)} failed (exit '
                           f'{result.returncode}); log {log_path}:\n{tail}')


def run_one(args, model, seed, options, pairs):
    name, config = MODELS[model]
    work_dir = osp.join(args.work_dir, model, f'seed{seed}')
    os.makedirs(work_dir, exist_ok=True)
    python = sys.executable
    start = time.time()
    run([python, osp.join('tools', 'train.py'), config, '--work-dir',
         work_dir, '--seed', str(seed), '--no-validate', '--cfg-options'] +
        options + schedule_options(args.epochs) + list(args.cfg_options),
        osp.join(work_dir, 'train_stdout.log'))
    checkpoint = osp.join(work_dir, f'epoch_{args.epochs}.pth')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'training ended without {checkpoint}; see '
                                f'{work_dir}/train_stdout.log')
    dump = osp.join(work_dir, 'test_predictions.pkl')
    run([python, osp.join('tools', 'test.py'), config, checkpoint,
         '--work-dir', osp.join(work_dir, 'test'), '--dump', dump,
         '--cfg-options'] + options + list(args.cfg_options),
        osp.join(work_dir, 'test_stdout.log'))
    scores, labels = load_dump(dump)
    result = pair_accuracy(scores, labels, pairs)
    result.update(model=model, seed=seed, config=config,
                  minutes=(time.time() - start) / 60, work_dir=work_dir)
    return result


def main(argv=None):
    args = parse_args(argv)
    os.chdir(REPO)
    start = time.time()
    spec = spec_from(args)
    names = class_names(spec)
    pairs = order_swapped_pairs(names)
    ensure_data(args, spec)
    options = data_options(args, len(names))
    runs = []
    total = len(args.models) * len(args.seeds)
    for model in args.models:
        for seed in args.seeds:
            print(f'[{len(runs) + 1}/{total}] {model} seed {seed} '
                  f'({args.epochs} epochs) ... ', end='', flush=True)
            result = run_one(args, model, seed, options, pairs)
            runs.append(result)
            print(f'top-1 {100 * result["top1"]:.1f}%, order acc '
                  f'{100 * result["order_acc"]:.1f}% '
                  f'({result["minutes"]:.1f} min)', flush=True)
    rows = []
    for model in args.models:
        mine = [r for r in runs if r['model'] == model]
        rows.append(dict(
            name=MODELS[model][0], config=MODELS[model][1],
            **{key: [r[key] for r in mine]
               for key in ('top1', 'pair_top1', 'order_acc', 'minutes')}))
    setting = (
        f'{len(names)} classes ({len(pairs)} order-swapped pairs), '
        f'{args.train} train / {args.test} test videos of {args.size}px, '
        f'{args.epochs} epochs, seeds {args.seeds}; test: 2 views '
        '(twice_sample), last checkpoint')
    from mmengine.config import Config
    segments = Config.fromfile(MODELS['hman_soft'][1]).num_segments
    text = (f'Synthetic order-dependent actions: {setting}.\n\n' +
            markdown_table(rows) + '\n\nThe same as model-zoo rows '
            '(configs/README.md):\n\n' +
            zoo_table(rows, segments, args.size) + '\n')
    print('\n' + text)
    out = args.out or osp.join(args.work_dir, 'results.md')
    json_path = args.json or osp.join(args.work_dir, 'results.json')
    for path in (out, json_path):
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(out, 'w') as f:
        f.write(text)
    with open(json_path, 'w') as f:
        json.dump(dict(setting=setting, classes=names, pairs=pairs,
                       args=vars(args), rows=rows, runs=runs,
                       total_minutes=(time.time() - start) / 60), f,
                  indent=2)
    print(f'table: {out}\njson: {json_path}\n'
          f'total: {(time.time() - start) / 60:.1f} min')
    return rows


if __name__ == '__main__':
    main()
