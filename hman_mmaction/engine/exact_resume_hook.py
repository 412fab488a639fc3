"""``ExactResumeHook``: ``--resume`` after a kill gives the losses of the
uninterrupted run, with mmaction2's own ``tools/train.py`` and any runner.

Add it to a config (the README's minimal config does)::

    custom_hooks = [dict(type='ExactResumeHook')]

It brings together what an exact resume needs:

* the RNG states of torch (CPU and CUDA: the Gumbel noise of the boundary
  detectors and the hard attention is drawn from torch's generators),
  numpy and Python ``random`` in every checkpoint, restored on resume,
  validation RNG-neutral (:class:`~.rng_state.RNGStateHook`, its base);
* the position in the epoch: mmengine's ``EpochBasedTrainLoop`` is turned
  into :class:`~.loops.ResumableEpochBasedTrainLoop` at ``before_run`` (the
  same loop until a mid-epoch resume, which skips the batches the
  checkpoint has seen: the sampler's order is replayed, not re-drawn);
* ``--resume`` without a path falls back past a checkpoint it cannot read
  (cut short by a kill while saving) to the previous one, newest first;
  a checkpoint refused as untrusted stops the run;
* a resume with persistent training workers logs that it cannot be exact
  (their random state is not in the checkpoint).

A config without it trains as mmengine does; the head's first training
step says so in one line (:mod:`hman_mmaction.models.training_checks`).
"""
import glob
import logging
import os.path as osp
from typing import List, Optional

from mmaction.registry import HOOKS
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from mmengine.runner.checkpoint import find_latest_checkpoint

from ..compat.checkpoint_globals import (UntrustedCheckpointError,
                                         load_local_checkpoint)
from ..models.training_checks import mark_hook
from .loops import ResumableEpochBasedTrainLoop
from .rng_state import RNGStateHook


def resume_candidates(work_dir: str) -> List[str]:
    """``last_checkpoint``'s target, then the work dir's other
    ``epoch_*.pth`` / ``iter_*.pth``, newest (mtime) first."""
    latest: Optional[str] = None
    if osp.exists(osp.join(work_dir, 'last_checkpoint')):
        latest = find_latest_checkpoint(work_dir)
    folders = {work_dir} | ({osp.dirname(latest)} if latest else set())
    found = set()
    for folder in folders:
        for pattern in ('epoch_*.pth', 'iter_*.pth'):
            found.update(glob.glob(osp.join(folder, pattern)))
    others = sorted(
        found - {latest}, key=lambda p: (osp.getmtime(p), p), reverse=True)
    return ([latest] if latest else []) + others


def unreadable_reason(path: str) -> Optional[str]:
    """Why ``path`` cannot be loaded as a checkpoint, or None if it can.
    :class:`UntrustedCheckpointError` propagates."""
    try:
        checkpoint = load_local_checkpoint(path, map_location='cpu')
    except UntrustedCheckpointError:
        raise
    except Exception as error:  # truncated zip, EOF, missing file ...
        return f'{type(error).__name__}: {error}'
    if not isinstance(checkpoint, dict) or 'meta' not in checkpoint:
        return 'not an mmengine checkpoint (no "meta")'
    return None


def heads(model):
    """The ``HMANHead`` modules of ``model``."""
    from ..models.hman_head import HMANHead
    if is_model_wrapper(model):
        model = model.module
    return [m for m in model.modules() if isinstance(m, HMANHead)]


def _log(message: str, level=logging.INFO) -> None:
    print_log(message, logger='current', level=level)


@HOOKS.register_module()
class ExactResumeHook(RNGStateHook):
    """Exact ``--resume`` (module doc). No arguments."""

    def before_run(self, runner) -> None:
        for head in heads(runner.model):
            mark_hook(head, type(self).__name__)
        loop = runner._train_loop
        if type(loop) is EpochBasedTrainLoop:  # built: training
            loop.__class__ = ResumableEpochBasedTrainLoop  # methods only
            loop.pending_rng_state = None
        if not isinstance(loop, EpochBasedTrainLoop) or not runner._resume:
            return
        self._warn_persistent_workers(runner)
        if runner._load_from is None:
            runner._load_from = self._readable_latest(runner.work_dir)

    @staticmethod
    def _warn_persistent_workers(runner) -> None:
        loader = runner.train_dataloader
        if getattr(loader, 'num_workers', 0) > 0 and getattr(
                loader, 'persistent_workers', False):
            _log(
                'Resuming with train_dataloader.persistent_workers=True: '
                'the data workers keep their random state across epochs '
                'and it is not in the checkpoint, so augmentations after '
                'the resume differ from an uninterrupted run. Set '
                'train_dataloader.persistent_workers=False for an exact '
                'resume.', logging.WARNING)

    @staticmethod
    def _readable_latest(work_dir: str) -> Optional[str]:
        """The newest checkpoint of ``work_dir`` that can be read (None:
        none there, mmengine trains from scratch)."""
        candidates = resume_candidates(work_dir)
        for path in candidates:
            reason = unreadable_reason(path)
            if reason is None:
                _log(f'Auto-resuming from {path}.')
                return path
            _log(
                f'Cannot resume from {path} ({reason}); it was probably '
                'cut short by a kill while saving. Trying the previous '
                'checkpoint.', logging.WARNING)
        if candidates:
            raise RuntimeError(
                f'--resume: none of the {len(candidates)} checkpoints in '
                f'{work_dir} can be read ({candidates}). Delete them to '
                'train from scratch, or resume from a good copy with '
                '--resume PATH.')
        _log(f'--resume: no checkpoint in {work_dir}; training from '
             'scratch.')
        return None
