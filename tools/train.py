"""Train a recognizer with mmaction2's flags, the HM-AN plugin loaded.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

The same in Python: ``hman_mmaction.engine.launch.train(CONFIG, ...)``.
"""
import argparse

# first: says which python to use when this one lacks the plugin
import plugin_environment  # noqa: F401

# isort: split
import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_mmaction.engine.launch import train
from launch_args import launch_parser, parse_and_run  # tools/


def build_parser() -> argparse.ArgumentParser:
    parser = launch_parser(
        'Train an HM-AN recognizer', 'logs and checkpoints',
        'train_dataloader.batch_size=4 model.cls_head.num_classes=51')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: float16 + loss scaling on CUDA, bfloat16 on '
        'CPU')
    parser.add_argument(
        '--no-validate', action='store_true', help='skip validation')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate with the total batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--diff-rank-seed',
        action='store_true',
        help='a different seed on every rank')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='deterministic algorithms (cuDNN and torch)')
    return parser


def main(argv=None):
    return parse_and_run(build_parser(), train, argv)


if __name__ == '__main__':
    main()
