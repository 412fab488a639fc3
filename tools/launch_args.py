"""The command-line flags ``tools/train.py`` and ``tools/test.py`` share
(mmaction2's), and how both turn the parsed flags into a call of
:mod:`hman_mmaction.engine.launch`. Not a tool itself."""
import argparse
import os
from typing import Callable, Optional, Sequence

from mmengine.config import DictAction

from hman_mmaction.engine.launch import LAUNCHERS


def launch_parser(description: str, work_dir: str,
                  example: str) -> argparse.ArgumentParser:
    """A parser with the shared arguments: ``config``, ``--work-dir``
    (``work_dir``: what goes there), ``--cfg-options`` (``example``: a
    sample override), ``--launcher`` and torch.distributed.launch's
    ``--local_rank``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help=f'where {work_dir} go')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help=f'override config entries, key=value (e.g. {example})')
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def parse_and_run(parser: argparse.ArgumentParser,
                  launch: Callable,
                  argv: Optional[Sequence[str]] = None):
    """Parse ``argv`` and call ``launch`` with the flags as keywords
    (``--local_rank`` goes to ``LOCAL_RANK`` as mmengine expects)."""
    settings = vars(parser.parse_args(argv))
    os.environ.setdefault('LOCAL_RANK', str(settings.pop('local_rank')))
    return launch(**settings)
