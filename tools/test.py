"""Test a checkpoint with mmaction2's flags and multi-view protocol.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump OUT.pkl]
        [--boundaries] [--attention]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

The same in Python: ``hman_mmaction.engine.launch.test(CONFIG, CKPT, ...)``.
"""
import argparse

# first: says which python to use when this one lacks the plugin
import plugin_environment  # noqa: F401

# isort: split
import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_mmaction.engine.launch import test
from launch_args import launch_parser, parse_and_run  # tools/


def build_parser() -> argparse.ArgumentParser:
    parser = launch_parser('Test an HM-AN recognizer', 'the metrics and logs',
                           'test_dataloader.batch_size=4')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--dump', help='dump the predictions to this pickle file')
    parser.add_argument(
        '--show-dir', help='save visualisations of the predictions here')
    parser.add_argument(
        '--interval', type=int, default=1, help='visualise every n samples')
    parser.add_argument(
        '--boundaries',
        action='store_true',
        help='also score the HM-LSTM boundaries against the ground-truth '
        'motion changes (BoundaryMetric; needs <split>_segments.json)')
    parser.add_argument(
        '--attention',
        action='store_true',
        help='also score the attention maps against the target\'s and the '
        'distractors\' true boxes (AttentionMetric; needs <split>_boxes.json)')
    return parser


def main(argv=None):
    return parse_and_run(build_parser(), test, argv)


if __name__ == '__main__':
    main()
