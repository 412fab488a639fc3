"""``HMANRunner``: mmengine's Runner with the plugin's robustness
guarantees, selected by ``runner_type = 'HMANRunner'`` in
``configs/_base_/default_runtime.py`` (both our ``tools/train.py`` and
mmaction2's build ``RUNNERS`` when a config sets ``runner_type``).

* ``--resume`` without a path tries the checkpoint named in
  ``work_dir/last_checkpoint``, then every other ``epoch_*.pth`` /
  ``iter_*.pth`` in the work dir, newest first; a checkpoint that cannot be
  read (truncated by a kill while saving, deleted) is skipped with a
  warning. A checkpoint refused as untrusted is never skipped: that error
  stops the run.
* An ``EpochBasedTrainLoop`` is built as its subclass
  :class:`~hman_mmaction.engine.loops.ResumableEpochBasedTrainLoop`
  (identical until a mid-epoch resume, which it makes exact).
* Testing and validation refuse a checkpoint that does not fill the whole
  model (a TSN checkpoint for the HM-AN config, or the reverse), naming
  the keys; ``load_from`` for training loads what matches (backbone
  transfer) and logs a WARNING naming what was not loaded
  (:mod:`~hman_mmaction.engine.checkpoint_match`). Testing and validation
  also refuse a checkpoint whose saved config differs from the running one
  in what matters for the scores
  (:mod:`~hman_mmaction.engine.checkpoint_config`).
* ``--resume`` from a checkpoint of another model or config is refused,
  naming what differs, before mmengine loads the optimizer state.
* Train, val and test pipelines must sample whole sequences of the
  head's ``num_segments`` frames
  (:mod:`~hman_mmaction.engine.view_check`).
* ``--resume`` warns that it cannot be exact when the train loader keeps
  persistent workers (their random state is not in the checkpoint).
* :class:`~hman_mmaction.engine.rng_state.RNGStateHook` and
  :class:`~hman_mmaction.engine.broken_video_hook.BrokenVideoCounterHook`
  are registered when the config does not list them.
"""
import glob
import os.path as osp
from typing import List, Optional

from mmaction.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.runner.checkpoint import find_latest_checkpoint

from ..compat.checkpoint_globals import (UntrustedCheckpointError,
                                         load_local_checkpoint)
from .broken_video_hook import BrokenVideoCounterHook
from .checkpoint_config import (FeatureProvenanceHook, check_checkpoint_config,
                                config_differences)
from .checkpoint_match import (CheckpointMismatchError, checkpoint_mismatch,
                               describe)
from .rng_state import RNGStateHook
from .view_check import check_sequence_views

ALWAYS_ON_HOOKS = (RNGStateHook, BrokenVideoCounterHook, FeatureProvenanceHook)


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


@RUNNERS.register_module()
class HMANRunner(Runner):
    """mmengine ``Runner`` plus the behaviours listed in the module doc."""

    _evaluating = False  # set by test() / val(): checkpoints must be whole

    def train(self):
        check_sequence_views(self.model, self._train_dataloader,
                             'train_dataloader')
        check_sequence_views(self.model, self._val_dataloader,
                             'val_dataloader')
        return super().train()

    def val(self) -> dict:
        check_sequence_views(self.model, self._val_dataloader,
                             'val_dataloader')
        self._evaluating = True
        try:
            return super().val()
        finally:
            self._evaluating = False

    def test(self) -> dict:
        check_sequence_views(self.model, self._test_dataloader,
                             'test_dataloader')
        self._evaluating = True
        try:
            return super().test()
        finally:
            self._evaluating = False

    def load_checkpoint(self,
                        filename,
                        map_location='cpu',
                        strict=False,
                        revise_keys=[(r'^module.', '')]):
        checkpoint = super().load_checkpoint(filename, map_location, strict,
                                             revise_keys)
        mismatch = checkpoint_mismatch(self.model, checkpoint, revise_keys)
        if self._resume:
            self._refuse_foreign_resume(checkpoint, filename, mismatch)
            return checkpoint  # resume: the run's own checkpoint
        if mismatch and self._evaluating:
            raise CheckpointMismatchError(
                describe(mismatch, filename, self.model) +
                '\nIts scores would come from random weights. Test with the '
                'checkpoint trained with this config, or with the config '
                'the checkpoint was trained with.')
        if self._evaluating:
            check_checkpoint_config(checkpoint, self.cfg, str(filename))
        if mismatch:
            self.logger.warning(
                describe(mismatch, filename, self.model) +
                '\nTraining starts from the weights that matched '
                '(load_from: transfer); the parts named above start from '
                'their initialisation.')
        return checkpoint

    def _refuse_foreign_resume(self, checkpoint, filename, mismatch) -> None:
        """``--resume`` continues a run: its model and optimizer states
        must be those of this config. Names what differs (instead of an
        error deep inside the optimizer's ``load_state_dict``)."""
        differences = config_differences(checkpoint, self.cfg)
        if not mismatch and not differences:
            return
        lines = ''.join(f'\n  {d.key}: checkpoint {d.saved!r}, config '
                        f'{d.running!r}' for d in differences)
        weights = describe(mismatch, filename, self.model) if mismatch else ''
        raise CheckpointMismatchError(
            f'--resume {filename}: this checkpoint was not written by a run '
            'of this config, so its model and optimizer states cannot '
            'continue here.' +
            (f'\nConfig differences (checkpoint meta["cfg"] vs this '
             f'config):{lines}' if differences else '') +
            (f'\n{weights}' if weights else '') +
            '\nTo continue that run, resume with the config it was '
            'trained with. To start a new run from its weights (whatever '
            'matches, e.g. the backbone), use load_from instead: '
            f'--cfg-options load_from={filename} (without --resume).')

    def build_train_loop(self, loop):
        if isinstance(loop, dict):
            is_epoch_loop = loop.get('type') in (
                'EpochBasedTrainLoop', 'mmengine.EpochBasedTrainLoop') or (
                    'type' not in loop and loop.get('by_epoch', False))
            if is_epoch_loop:
                loop = dict(loop, type='ResumableEpochBasedTrainLoop')
                loop.pop('by_epoch', None)
        return super().build_train_loop(loop)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        for hook_cls in ALWAYS_ON_HOOKS:
            if not any(isinstance(h, hook_cls) for h in self._hooks):
                self.register_hook(hook_cls())

    def _warn_inexact_resume(self) -> None:
        loader = self._train_dataloader
        if (isinstance(loader, dict) and loader.get('num_workers', 0) > 0
                and loader.get('persistent_workers', False)):
            self.logger.warning(
                'Resuming with train_dataloader.persistent_workers=True: '
                'the data workers keep their random state across epochs '
                'and it is not in the checkpoint, so augmentations after '
                'the resume differ from an uninterrupted run. Set '
                'train_dataloader.persistent_workers=False (the configs\' '
                'default) for an exact resume.')

    def load_or_resume(self) -> None:
        if self._resume and not self._has_loaded:
            self._warn_inexact_resume()
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        candidates = resume_candidates(self.work_dir)
        for path in candidates:
            reason = unreadable_reason(path)
            if reason is None:
                self.logger.info(f'Auto-resuming from {path}.')
                self.resume(path)
                self._has_loaded = True
                return
            self.logger.warning(
                f'Cannot resume from {path} ({reason}); it was probably cut '
                'short by a kill while saving. Trying the previous '
                'checkpoint.')
        if candidates:
            raise RuntimeError(
                f'--resume: none of the {len(candidates)} checkpoints in '
                f'{self.work_dir} can be read ({candidates}). Delete them to '
                'train from scratch, or resume from a good copy with '
                '--resume PATH.')
        self.logger.info(f'--resume: no checkpoint in {self.work_dir}; '
                         'training from scratch.')
