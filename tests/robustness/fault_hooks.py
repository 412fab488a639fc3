"""Test-only hooks that inject faults into a training run (imported through
``custom_imports`` by the robustness tests, never by the plugin)."""
import os
import time

from mmaction.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook


@HOOKS.register_module()
class PauseAtIterHook(Hook):
    """After iteration ``at`` (1-based, checkpoint already saved) touch
    ``flag_file`` and wait until the process is killed."""

    priority = 'LOWEST'

    def __init__(self, at: int, flag_file: str):
        self.at, self.flag_file = at, flag_file

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            with open(self.flag_file, 'w') as f:
                f.write(str(os.getpid()))
            while True:
                time.sleep(1)


@HOOKS.register_module()
class RaiseOnRankHook(Hook):
    """Raise on rank ``rank`` before iteration ``at`` (1-based)."""

    def __init__(self, rank: int, at: int):
        self.rank, self.at = rank, at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if get_rank() == self.rank and runner.iter + 1 == self.at:
            raise RuntimeError(f'injected failure on rank {self.rank} at '
                               f'iteration {self.at}')
