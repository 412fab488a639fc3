"""Autocast-free regions on any device the head runs on, ``meta``
included (autocast has no ``meta`` device; there it is off, and
:func:`~hman_mmaction.models.plan.call_state` says so), so that the head
can be traced there for its shapes and ops
(``tests/models/test_capturable_step.py``)."""
import contextlib

import torch

#: devices that autocast does not know: there it is off
NO_AUTOCAST = ('meta', )


def autocast_off(device_type: str):
    """A region where autocast is off on ``device_type``."""
    if device_type in NO_AUTOCAST:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device_type, enabled=False)
