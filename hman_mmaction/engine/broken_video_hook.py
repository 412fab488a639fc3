"""Counts and logs the training clips that could not be read.

``CheckedVideoDataset(skip_broken_videos=True)`` replaces an unreadable clip
by the next readable one and marks the sample with the metainfo key
``broken_video``. This hook, in the main process (so it works with any
number of dataloader workers), counts those marks per epoch and logs, at
the end of the epoch, a warning with how many and which videos were
skipped (the dataset also warns each time it skips one).
"""
from mmaction.registry import HOOKS
from mmengine.hooks import Hook

from ..datasets.checked_video_dataset import BROKEN_KEY


@HOOKS.register_module()
class BrokenVideoCounterHook(Hook):
    """(In our runtime's ``custom_hooks``.)"""

    priority = 'NORMAL'

    def __init__(self):
        self.skipped = []

    def before_train_epoch(self, runner) -> None:
        self.skipped = []

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        samples = (data_batch or {}).get('data_samples') or []
        found = [
            s.metainfo[BROKEN_KEY] for s in samples
            if BROKEN_KEY in getattr(s, 'metainfo', {})
        ]
        self.skipped += found

    def after_train_epoch(self, runner) -> None:
        if self.skipped:
            runner.logger.warning(
                f'Epoch {runner.epoch + 1}: skipped {len(self.skipped)} '
                f'unreadable clip(s) (replaced by readable ones): '
                f'{sorted(set(self.skipped))}')
