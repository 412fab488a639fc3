"""Train and test a config in this process: what ``tools/train.py`` and
``tools/test.py`` do, as functions of plain arguments.

The keyword arguments mirror mmaction2's command-line flags (``work_dir``
for ``--work-dir``, ``resume`` for ``--resume`` ...); the tools only parse
the command line into them. :func:`train_config` / :func:`test_config`
give the resulting :class:`~mmengine.config.Config`, :func:`train` /
:func:`test` also build the runner and run it::

    from hman_mmaction.engine.launch import test, train
    train('configs/hman_demo.py', work_dir='work_dirs/demo', seed=0)
    metrics = test('configs/hman_demo.py', 'work_dirs/demo/epoch_1.pth')
"""
import gc
import os
import os.path as osp
from typing import Optional

import torch
from mmaction.registry import RUNNERS
from mmengine.config import Config
from mmengine.runner import Runner

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')

#: what each launcher reads from the environment, and what sets it
LAUNCHER_ENVIRONMENT = {
    'pytorch': (('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                 'MASTER_PORT'), 'torchrun: `bash tools/dist_train.sh CONFIG '
                'N` / `bash tools/dist_test.sh CONFIG CKPT N`, or `python -m '
                'torch.distributed.run --nproc_per_node N tools/train.py '
                'CONFIG --launcher pytorch`'),
    'slurm': (('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'),
              'srun (README: "slurm")'),
    'mpi':
    (('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE'), 'mpirun (Open MPI)'),
}


def check_launcher_environment(launcher: str) -> None:
    """Refuse ``launcher`` when the variables it reads are not set (a
    ``--launcher pytorch`` without torchrun used to end in
    ``KeyError: 'RANK'``), naming the command that sets them."""
    if launcher not in LAUNCHER_ENVIRONMENT:
        return
    names, starter = LAUNCHER_ENVIRONMENT[launcher]
    missing = [name for name in names if name not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher {launcher} runs one process of a job started by '
            f'{starter}, which sets {", ".join(names)}; here '
            f'{", ".join(missing)} {"is" if len(missing) == 1 else "are"} '
            'not set. Start the job that way, or drop --launcher (default '
            'none) for a single process.')


def check_output_file(path: str, flag: str) -> None:
    """Refuse an output file that cannot be written, before the run: its
    deepest existing folder must be writable (the missing folders are
    created), and the path itself must not be a folder or read-only."""
    absolute = osp.abspath(path)
    if osp.isdir(absolute):
        raise IsADirectoryError(
            f'{flag} {path!r} is a folder; give a file name in it, e.g. '
            f'{osp.join(path, "predictions.pkl")!r}')
    if osp.exists(absolute):
        if not os.access(absolute, os.W_OK):
            raise PermissionError(
                f'{flag} {path!r} exists and is not writable; choose another '
                'file (checked before the run, not after it)')
        return
    folder = osp.dirname(absolute)
    while not osp.exists(folder):
        folder = osp.dirname(folder)
    if not osp.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            f'{flag} {path!r}: cannot write into {folder!r} (not a writable '
            'folder); choose a path under a folder you can write, e.g. '
            f'the work dir (checked before the run, not after it)')


def check_output_folder(path: str, flag: str) -> None:
    """Refuse an output folder that cannot be written, before the run."""
    absolute = osp.abspath(path)
    folder = absolute
    while not osp.exists(folder):
        folder = osp.dirname(folder)
    if not osp.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            f'{flag} {path!r}: cannot write into {folder!r} (not a writable '
            'folder); choose a folder you can write (checked before the '
            'run, not after it)')


def _load(config: str, cfg_options: Optional[dict], launcher: str,
          work_dir: Optional[str]) -> Config:
    """The config with ``cfg_options`` merged first (as mmaction2's tools
    do), then the launcher and the work dir (argument, config's, else
    ``./work_dirs/<config name>``)."""
    if launcher not in LAUNCHERS:
        raise ValueError(f'launcher must be one of {LAUNCHERS}, got '
                         f'{launcher!r}')
    check_launcher_environment(launcher)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        check_output_folder(work_dir, '--work-dir')
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def amp_optim_wrapper(cfg: Config) -> None:
    """Switch ``cfg.optim_wrapper`` to mixed precision for this device:
    float16 with dynamic loss scaling on CUDA, bfloat16 on CPU."""
    current = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if current not in ('OptimWrapper', 'AmpOptimWrapper',
                       'BF16AmpOptimWrapper'):
        raise ValueError(f'amp cannot convert the custom optim wrapper '
                         f'{current!r}; set its mixed precision in the config')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'BF16AmpOptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)


def train_config(config: str,
                 work_dir: Optional[str] = None,
                 resume: Optional[str] = None,
                 amp: bool = False,
                 no_validate: bool = False,
                 auto_scale_lr: bool = False,
                 seed: Optional[int] = None,
                 diff_rank_seed: bool = False,
                 deterministic: bool = False,
                 cfg_options: Optional[dict] = None,
                 launcher: str = 'none') -> Config:
    """The training config of ``config`` with these settings.

    Args:
        config: config file path.
        work_dir: where logs and checkpoints go. Defaults to the config's
            ``work_dir``, else ``./work_dirs/<config name>``.
        resume: ``'auto'`` (the latest readable checkpoint of the work
            dir), a checkpoint path, or None (no resumption).
        amp: mixed precision (:func:`amp_optim_wrapper`). Defaults to False.
        no_validate: drop the validation loop. Defaults to False.
        auto_scale_lr: scale the learning rate with the total batch size.
            Defaults to False.
        seed: random seed; None keeps the config's. Defaults to None.
        diff_rank_seed: a different seed on every rank. Defaults to False.
        deterministic: deterministic cuDNN and torch algorithms.
            Defaults to False.
        cfg_options: ``{'dotted.key': value}`` overrides, merged first.
        launcher: one of :data:`LAUNCHERS`. Defaults to ``'none'``.
    """
    cfg = _load(config, cfg_options, launcher, work_dir)
    if no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if amp:
        amp_optim_wrapper(cfg)
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume is not None:
        cfg.resume, cfg.load_from = True, resume
    if auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    randomness = dict(cfg.get('randomness', None) or {})
    if seed is not None:
        randomness['seed'] = seed
    if diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if deterministic:
        randomness['deterministic'] = True
    if randomness:
        randomness.setdefault('seed', None)  # Runner needs the key
        cfg.randomness = randomness
    return cfg


def test_config(config: str,
                checkpoint: str,
                work_dir: Optional[str] = None,
                dump: Optional[str] = None,
                show_dir: Optional[str] = None,
                interval: int = 1,
                boundaries: bool = False,
                attention: bool = False,
                cfg_options: Optional[dict] = None,
                launcher: str = 'none') -> Config:
    """The testing config of ``config`` for ``checkpoint``.

    Args:
        config: config file path.
        checkpoint: checkpoint to test.
        work_dir: where the metrics file goes (default as in
            :func:`train_config`).
        dump: also write the predictions to this ``.pkl`` file.
        show_dir: save visualisations of the predictions here (needs
            ``default_hooks.visualization`` in the config).
        interval: with ``show_dir``, visualise every n-th sample.
            Defaults to 1.
        boundaries: also score the HM-LSTM boundaries against the
            ground-truth motion changes (``BoundaryMetric``; the test list
            needs its ``<split>_segments.json`` sidecar). Defaults to False.
        attention: also score the attention maps against the target's and
            the distractors' true boxes (``AttentionMetric``; the test list
            needs its ``<split>_boxes.json`` sidecar). Defaults to False.
        cfg_options: ``{'dotted.key': value}`` overrides, merged first.
        launcher: one of :data:`LAUNCHERS`. Defaults to ``'none'``.
    """
    cfg = _load(config, cfg_options, launcher, work_dir)
    cfg.load_from = checkpoint
    if boundaries:
        from ..evaluation.boundary_metric import enable_boundary_evaluation
        enable_boundary_evaluation(cfg, 'test')
    if attention:
        from ..evaluation.attention_metric import enable_attention_evaluation
        enable_attention_evaluation(cfg, 'test')
    if show_dir:
        check_output_folder(show_dir, '--show-dir')
        visualization = cfg.default_hooks.get('visualization', None)
        if visualization is None:
            raise KeyError(f'{config}: showing predictions (show_dir) needs '
                           'default_hooks.visualization in the config '
                           "(e.g. dict(type='VisualizationHook'))")
        visualization.update(enable=True, out_dir=show_dir, interval=interval)
    if dump:
        if not dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'the dump file must end in .pkl, got {dump}')
        check_output_file(dump, '--dump')
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, (list, tuple)):
            evaluators = [evaluators]
        cfg.test_evaluator = list(evaluators) + [
            dict(type='DumpResults', out_file_path=dump)
        ]
    return cfg


def build_runner(cfg: Config) -> Runner:
    """``Runner.from_cfg`` or the registered ``runner_type`` (as
    mmaction2's tools)."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def train(config: str, **settings) -> None:
    """Train ``config`` (``settings``: those of :func:`train_config`), then
    tear a distributed process group down (:func:`finish_distributed`)."""
    runner = build_runner(train_config(config, **settings))
    runner.train()
    del runner  # the model (and its process group) goes before the teardown
    finish_distributed()


def test(config: str, checkpoint: str, **settings) -> dict:
    """Test ``checkpoint`` (``settings``: those of :func:`test_config`);
    returns the metrics ``{name: float}``."""
    runner = build_runner(test_config(config, checkpoint, **settings))
    metrics = {name: float(value) for name, value in runner.test().items()}
    del runner
    finish_distributed()
    return metrics


# pytest would collect the function named test_* above as a test
test.__test__ = test_config.__test__ = False


def finish_distributed() -> None:
    """Wait for every rank, then tear the process group down while the
    interpreter is fully alive: a gloo group destroyed at exit (still held
    by a DDP model in a reference cycle of the runner) can abort a rank
    with "terminate called without an active exception". Call it after
    the last reference to the runner is dropped; without a process group
    it only collects garbage."""
    import torch.distributed as dist
    gc.collect()  # the runner's cycles: DDP model, loops, hooks
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
        gc.collect()
