"""Command-line plumbing shared by ``tools/train.py`` and ``tools/test.py``.

The flags are mmaction2's own (``--work-dir``, ``--resume``, ``--amp``,
``--cfg-options``, ``--launcher`` ...), so commands copy over unchanged.
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmaction.registry import RUNNERS

LAUNCHERS = ['none', 'pytorch', 'slurm', 'mpi']


def _common_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value (e.g. '
        'train_dataloader.batch_size=4 model.cls_head.num_classes=51)')
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description='Train an HM-AN recognizer')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
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
    _common_flags(parser)
    return parser


def test_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description='Test an HM-AN recognizer')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the metrics file goes')
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
    _common_flags(parser)
    return parser


def parse(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _work_dir(cfg: Config, args) -> str:
    if args.work_dir is not None:
        return args.work_dir
    if cfg.get('work_dir', None) is not None:
        return cfg.work_dir
    return osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])


def amp_optim_wrapper(cfg: Config) -> None:
    """Switch ``cfg.optim_wrapper`` to mixed precision for this device."""
    current = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if current not in ('OptimWrapper', 'AmpOptimWrapper',
                       'BF16AmpOptimWrapper'):
        raise ValueError(f'--amp cannot convert the custom optim wrapper '
                         f'{current!r}; set its mixed precision in the config')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'BF16AmpOptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)


def train_config(args) -> Config:
    """Load the config and apply the training flags."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:  # first, then the flags, as mmaction2's train.py
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = _work_dir(cfg, args)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        amp_optim_wrapper(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    randomness = dict(cfg.get('randomness', None) or {})
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if args.deterministic:
        randomness['deterministic'] = True
    if randomness:
        randomness.setdefault('seed', None)  # Runner needs the key
        cfg.randomness = randomness
    return cfg


def test_config(args) -> Config:
    """Load the config and apply the testing flags."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = _work_dir(cfg, args)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        visualization = cfg.default_hooks.get('visualization', None)
        if visualization is None:
            raise KeyError('--show-dir needs default_hooks.visualization in '
                           'the config (mmaction VisualizationHook)')
        visualization.update(
            enable=True, out_dir=args.show_dir, interval=args.interval)
    if getattr(args, 'boundaries', False):
        from ..evaluation.boundary_metric import enable_boundary_evaluation
        enable_boundary_evaluation(cfg, 'test')
    if args.dump:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must end in .pkl, got {args.dump}')
        dump = dict(type='DumpResults', out_file_path=args.dump)
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, (list, tuple)):
            evaluators = [evaluators]
        cfg.test_evaluator = list(evaluators) + [dump]
    return cfg


def build_runner(cfg: Config) -> Runner:
    """``Runner.from_cfg`` or the registered ``runner_type``."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def finish_distributed() -> None:
    """Wait for every rank, then tear the process group down while the
    interpreter is fully alive: a gloo group destroyed at exit (still held
    by a DDP model in a reference cycle of the runner) can abort a rank
    with "terminate called without an active exception". Call it after
    the last reference to the runner is dropped."""
    import gc

    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        gc.collect()  # the runner's cycles: DDP model, loops, hooks
        dist.barrier()
        dist.destroy_process_group()
        gc.collect()
