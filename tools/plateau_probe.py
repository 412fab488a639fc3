"""Does a from-scratch run leave the initial plateau, and how: the first
``--epochs`` of the end-to-end recipe (the 4-epoch schedule's learning
rate, so epoch 1 is exactly the first epoch of the benchmark's run), per
seed, on the accuracy benchmark's flat task.

    python tools/plateau_probe.py configs/demo/hman-hard-att_scratch_demo.py
        [--seeds 0 1 2] [--epochs 1] [--schedule-epochs 4]
        [--name NAME] [--head-options K=V ...] [--data-seed 0]
        [--data-root DIR]

Runs ``tools/train.py`` (one torch thread, one run at a time) with the
benchmark's data (``tools/benchmark_accuracy.py`` generates it if missing)
and prints per seed: the plateau exit (first logged iteration with
``loss_cls < 0.9 ln C``, as the benchmark), ``loss_cls`` / ``loss_aux``
and the attention's entropy ``att_entropy`` / temperature ``tau_att``
averaged over the first 25 iterations and over the last 25 logged, and the
gradient norm (``grad_norm``, before clipping) over the run.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

import benchmark_accuracy as bench
from mmengine.config import Config

from hman_mmaction.benchmark.accuracy import (plateau_exit, schedule_overrides,
                                              training_curve)
from hman_mmaction.datasets.synthetic_actions import class_names


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--epochs', type=int, default=1)
    p.add_argument(
        '--schedule-epochs',
        type=int,
        default=4,
        help='the schedule (cosine decay) of the full run')
    p.add_argument('--name', default=None, help='run folder name')
    p.add_argument('--head-options', nargs='+', default=[])
    p.add_argument('--data-seed', type=int, default=0)
    p.add_argument(
        '--data-root',
        default=None,
        help='default: the benchmark\'s (data/benchmark_accuracy), '
        'with a _data-seed<N> suffix for another data seed')
    p.add_argument(
        '--work-dir', default=osp.join('work_dirs', 'plateau_probe'))
    return p.parse_args(argv)


def window_mean(rows, key, first):
    rows = [r for r in rows if key in r]
    if not rows:
        return None
    picked = [r for r in rows if r['iter'] <= 25] if first else rows[-5:]
    return sum(r[key] for r in picked) / len(picked)


def summary(rows, num_classes):
    out = dict(exit=plateau_exit(rows, num_classes))
    for key in ('loss_cls', 'loss_aux', 'att_entropy', 'tau_att'):
        out[key] = (window_mean(rows, key,
                                True), window_mean(rows, key, False))
    norms = [r['grad_norm'] for r in rows if 'grad_norm' in r]
    out['grad_norm'] = sum(norms) / len(norms) if norms else None
    return out


def fmt(pair):
    return '/'.join('-' if v is None else f'{v:.2f}' for v in pair)


def main(argv=None):
    args = parse_args(argv)
    os.chdir(REPO)
    data_root = args.data_root or osp.join(
        'data', 'benchmark_accuracy' +
        (f'_data-seed{args.data_seed}' if args.data_seed else ''))
    bench_args = bench.parse_args(
        ['--data-seed',
         str(args.data_seed), '--data-root', data_root])
    spec, segments = bench.task_spec('flat')
    root = bench.ensure_data(bench_args, 'flat', spec)
    num_classes = len(class_names(spec))
    options = bench.task_options(bench_args, root, num_classes, segments)
    # TSN's head takes the frame count at run time
    head_type = Config.fromfile(args.config).model.cls_head.type
    head_segments = ([] if head_type == 'TSNHead' else
                     [f'model.cls_head.num_segments={segments}'])
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    for seed in args.seeds:
        work_dir = osp.join(args.work_dir, name, f'seed{seed}')
        os.makedirs(work_dir, exist_ok=True)
        schedule = schedule_overrides(args.schedule_epochs, log_interval=5)
        schedule[0] = f'train_cfg.max_epochs={args.epochs}'
        schedule[3] = f'default_hooks.checkpoint.interval={args.epochs}'
        command = [
            sys.executable,
            osp.join('tools', 'train.py'), args.config, '--work-dir', work_dir,
            '--seed',
            str(seed), '--no-validate', '--cfg-options'
        ] + options + head_segments + schedule + args.head_options
        # this checkout's package, not another one installed in the env
        env = dict(
            os.environ,
            OMP_NUM_THREADS='1',
            MKL_NUM_THREADS='1',
            PYTHONPATH=os.pathsep.join([REPO] +
                                       [os.environ.get('PYTHONPATH', '')]))
        with open(osp.join(work_dir, 'train_stdout.log'), 'w') as f:
            subprocess.run(
                command,
                stdout=f,
                stderr=subprocess.STDOUT,
                env=env,
                check=True)
        s = summary(training_curve(work_dir), num_classes)
        print(
            f'{name} seed {seed}: plateau exit {s["exit"]}, loss_cls '
            f'{fmt(s["loss_cls"])}, loss_aux {fmt(s["loss_aux"])}, '
            f'att_entropy {fmt(s["att_entropy"])}, tau_att '
            f'{fmt(s["tau_att"])}, grad_norm {s["grad_norm"]:.2f} '
            '(first 25 iterations / last 25 logged)',
            flush=True)


if __name__ == '__main__':
    main()
