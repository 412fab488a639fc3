"""Ops per step: how many aten operators one call dispatches, the number
that bounds a host-bound step (issue 33: on a GPU every one of them is a
kernel launch, or at least a trip through the dispatcher).

:func:`count_ops` runs a call under a ``TorchDispatchMode`` (on any device,
the CPU included) and counts every aten op it dispatches, forward and
backward (the autograd engine runs the backward under the same mode):
``ops``, the ops that compute (views and ``detach``, which only make a new
tensor header, left out: the figure of the benchmark's ``ops/step``
column), and ``all_ops``. A replayed CUDA graph counts as the few ops around
its replay.
"""
from typing import Callable, Dict

from torch.utils._python_dispatch import TorchDispatchMode


class OpCounter(TorchDispatchMode):
    """Counts the aten ops dispatched while it is active."""

    def __init__(self):
        super().__init__()
        self.all_ops = 0
        self.ops = 0  # not views

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.all_ops += 1
        if not func.is_view:
            self.ops += 1
        return func(*args, **(kwargs or {}))


def count_ops(call: Callable[[], object]) -> Dict[str, int]:
    """``dict(ops=..., all_ops=...)`` of one ``call()``."""
    counter = OpCounter()
    with counter:
        call()
    return dict(ops=counter.ops, all_ops=counter.all_ops)
