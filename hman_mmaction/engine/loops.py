"""An ``EpochBasedTrainLoop`` that resumes exactly in the middle of an epoch.

mmengine's epoch loop, resumed from a checkpoint saved after iteration
``i`` of epoch ``e`` (``CheckpointHook(by_epoch=False)``), replays epoch
``e`` from its first batch: the batches already trained are trained again
and the run no longer matches an uninterrupted one. This loop skips the
``done = iter - epoch * len(dataloader)`` batches of the epoch that the
checkpoint has already seen (they are still drawn from the dataloader, so
the sampler order and dataloader workers advance exactly as before), then
restores the random state saved with the checkpoint
(:class:`~hman_mmaction.engine.rng_state.RNGStateHook`) and trains on.
Without a resume it is mmengine's loop unchanged.
"""
import logging
from typing import Optional

from mmaction.registry import LOOPS
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop

from .rng_state import restore_rng_state


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """Args as mmengine's ``EpochBasedTrainLoop``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pending_rng_state: Optional[dict] = None

    def _restore_pending_rng(self) -> None:
        if self.pending_rng_state is not None:
            restore_rng_state(self.pending_rng_state)
            self.pending_rng_state = None

    def _batches(self):
        """The epoch's batches, minus those a mid-epoch checkpoint saw."""
        length = len(self.dataloader)
        done = self._iter - self._epoch * length
        if done <= 0:
            self._restore_pending_rng()
            return enumerate(self.dataloader)
        print_log(
            f'Resumed in epoch {self._epoch + 1} after '
            f'{min(done, length)} of its {length} iterations: '
            'skipping those batches.',
            logger='current',
            level=logging.INFO)
        if done >= length:  # saved after the last iteration of the epoch
            self._restore_pending_rng()
            return iter(())
        batches = iter(self.dataloader)
        for _ in range(done):
            next(batches)
        self._restore_pending_rng()
        return enumerate(batches, start=done)

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        for idx, data_batch in self._batches():
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
