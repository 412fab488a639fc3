"""The main job on the embedded demo data (what ``make demo`` runs).

1. generate the order-dependent synthetic actions into
   ``data/synthetic_actions`` if they are not there yet
   (``tools/data/make_synthetic_actions.py``);
2. train HM-AN with ``configs/hman_demo.py`` on the CPU (``tools/train.py``);
3. test the best checkpoint with the multi-view protocol (``tools/test.py``)
   and print its top-1 on the test split next to chance.

    python tools/demo.py [--config configs/hman_demo.py] [--work-dir DIR]
        [--data-root data/synthetic_actions] [--epochs N]
        [--cfg-options key=value ...]
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)
sys.path.insert(0, REPO)

from hman_mmaction.datasets.synthetic_actions import (config_overrides,
                                                      stale_reason)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=osp.join('configs', 'hman_demo.py'))
    p.add_argument('--work-dir', default=osp.join('work_dirs', 'hman_demo'))
    p.add_argument(
        '--data-root', default=osp.join('data', 'synthetic_actions'))
    p.add_argument(
        '--epochs',
        type=int,
        default=None,
        help='override train_cfg.max_epochs')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='more key=value overrides for training and testing')
    return p.parse_args(argv)


def run(command):
    print('+ ' + ' '.join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO)


def best_checkpoint(work_dir):
    found = sorted(
        glob.glob(osp.join(work_dir, 'best_*.pth')), key=osp.getmtime)
    if not found:
        found = sorted(
            glob.glob(osp.join(work_dir, 'epoch_*.pth')), key=osp.getmtime)
    if not found:
        raise FileNotFoundError(f'no checkpoint in {work_dir}: did training '
                                'finish? See its log there.')
    return found[-1]


def main(argv=None):
    args = parse_args(argv)
    python = sys.executable
    start = time.time()
    stale = stale_reason(osp.join(REPO, args.data_root))
    if stale is None:
        print(f'demo data found in {args.data_root} (delete it to '
              'regenerate)')
    else:
        print(f'generating the demo data: {stale}')
        run([
            python,
            osp.join('tools', 'data', 'make_synthetic_actions.py'),
            args.data_root
        ])
    data = ['--cfg-options'] + config_overrides(args.data_root)
    train = [
        python,
        osp.join('tools', 'train.py'), args.config, '--work-dir', args.work_dir
    ] + data
    if args.epochs is not None:
        train += [f'train_cfg.max_epochs={args.epochs}']
    run(train + args.cfg_options)
    checkpoint = best_checkpoint(osp.join(REPO, args.work_dir))
    test_dir = osp.join(args.work_dir, 'test')
    run([
        python,
        osp.join('tools', 'test.py'), args.config, checkpoint, '--work-dir',
        test_dir
    ] + data + args.cfg_options)
    metrics = latest_metrics(osp.join(REPO, test_dir))
    with open(osp.join(REPO, args.data_root, 'classnames.txt')) as f:
        num_classes = len([line for line in f if line.strip()])
    top1 = metrics.get('acc/top1')
    if top1 is None:
        raise KeyError(f'no acc/top1 in the test metrics under {test_dir}: '
                       f'{sorted(metrics)}')
    print('\n' + '=' * 64)
    print(f'HM-AN demo: test top-1 = {100 * top1:.1f}% '
          f'(chance {100 / num_classes:.1f}%, {num_classes} classes), '
          f'top-5 = {100 * metrics.get("acc/top5", float("nan")):.1f}%')
    print(f'checkpoint: {osp.relpath(checkpoint, REPO)}')
    print(f'total time: {(time.time() - start) / 60:.1f} min')
    print('=' * 64)
    return metrics


def latest_metrics(test_dir):
    """The metrics mmengine wrote as ``<timestamp>/<timestamp>.json``."""
    found = sorted(
        glob.glob(osp.join(test_dir, '*', '*.json')), key=osp.getmtime)
    if not found:
        raise FileNotFoundError(f'no metrics json under {test_dir}')
    with open(found[-1]) as f:
        return json.loads(f.readlines()[-1])


if __name__ == '__main__':
    os.chdir(REPO)
    main()
