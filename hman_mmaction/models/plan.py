"""The plan of one forward pass of the head: which path it takes, decided
once, by :func:`decide_plan`, and handed to every component.

``HMANHead.run`` calls :func:`decide_plan` with the head's option
``fused_sequence`` (its config's: ``'auto'``, the default, is the fast
path on a CPU and the reference loop on CUDA, where the fast path's savings
are host time and its Python-side Functions cost more than they save;
issue 33) and the state of the call, and passes the
:class:`Plan` to its loop, which picks what the recurrence reads by it
(``HMANHead._sequence``), and to the feature map, the attention's and the
HM-LSTM's per-sequence layers; none of them looks at the grad mode,
autocast or ``torch.compile`` again.

Paths:

* ``'reference'``: the recurrence as written (every location projected,
  the attention's and the cells' own ``nn.Linear`` layers, plain autograd).
  Taken for ``fused_sequence=False`` (and ``'auto'`` on CUDA, outside
  ``torch.compile``), for an attention whose weights need
  not sum to one (the fast path's algebra needs it), and as the fallback
  when an eager training step would need private torch APIs that are
  missing or outside their checked versions
  (:func:`hman_mmaction.models.deferred.private_api_problem`; one warning
  per process).
* ``'fast'``: in eager mode (``fused_sequence=True``, or ``'auto'`` on a
  CPU), the projection folded into the keys, the
  glimpse on the raw channels; with grad, the weight gradients of the
  per-step layers once per sequence (``SequenceLinear``) and, without
  autocast, the map's products as Functions that write the map's gradient
  once (``FeatureMap``).
* ``'compile'``: the fast path's algebra as plain autograd ops, what
  ``torch.compile`` traces (the compiler builds its own backward): taken
  when the head runs inside ``torch.compile`` with ``fused_sequence=True``
  or ``'auto'``.
"""
import logging
from typing import NamedTuple, Optional

import torch
from mmengine.logging import print_log

from .deferred import private_api_problem
from .precision import NO_AUTOCAST

PATHS = ('reference', 'fast', 'compile')
_WARNED = set()  # fallback reasons already logged in this process


class Plan(NamedTuple):
    """One forward pass's decisions (see the module doc)."""
    path: str = 'reference'
    grad: bool = False  # autograd records this pass
    autocast: Optional[torch.dtype] = None  # its dtype, None when off

    @property
    def deferred_weights(self) -> bool:
        """Per-step layers defer their weight gradient to one GEMM per
        sequence (``SequenceLinear``)."""
        return self.path == 'fast' and self.grad

    @property
    def map_functions(self) -> bool:
        """The map's products run as the ``FeatureMap`` Functions (deferred
        map gradient); else as plain autograd ops."""
        return self.path == 'fast' and self.grad and self.autocast is None


class CallState(NamedTuple):
    """The state of a call that the head's decisions read (this module's
    plan; the CUDA-graph key and eligibility of
    :mod:`~hman_mmaction.models.cuda_graphs`)."""
    grad: bool  # grad mode
    autocast: Optional[torch.dtype]  # autocast's dtype on the device
    compiling: bool  # torch.compile is tracing


def call_state(device: str) -> CallState:
    """The :class:`CallState` now, for tensors on ``device`` (a type)."""
    autocast = None if device in NO_AUTOCAST or not torch.is_autocast_enabled(
        device) else torch.get_autocast_dtype(device)
    return CallState(torch.is_grad_enabled(), autocast,
                     torch.compiler.is_compiling())


def decide_plan(fused_sequence,
                x: torch.Tensor,
                fast_supported: bool = True) -> Plan:
    """The plan of a forward pass on features ``x`` (see the module doc):
    the head's ``fused_sequence`` option, ``fast_supported``
    (its attention's weights sum to one), the grad mode, autocast and
    ``torch.compile`` tracing, and in an eager training step the private
    torch APIs the deferred gradients need."""
    device = x.device.type
    grad, autocast, compiling = call_state(device)
    if fused_sequence == 'auto':  # the faster loop of the device
        fused_sequence = device != 'cuda' or compiling
    if not (fused_sequence and fast_supported):
        path = 'reference'
    elif compiling:
        path = 'compile'
    else:
        path = 'fast'
        problem = private_api_problem() if grad else None
        if problem is not None:
            path = 'reference'
            _warn_once(problem)
    return Plan(path, grad, autocast)


def _warn_once(problem: str) -> None:
    if problem in _WARNED:
        return
    _WARNED.add(problem)
    print_log(
        f'HMANHead: the fast path\'s training step needs {problem}; the '
        'head takes the reference loop (same values and gradients, slower). '
        'Use a torch version in the checked range, or set '
        'cls_head.fused_sequence=False to silence this.',
        logger='current',
        level=logging.WARNING)
