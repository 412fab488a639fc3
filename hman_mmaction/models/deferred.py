"""Gradients deferred to the end of a backward pass: the work one sequence's
steps would each do for a shared tensor (a weight, the feature map) is
stashed per step and done once, by a *sink* that autograd runs after every
step's backward.

The pattern: a sink Function takes the shared tensor and returns a zero
scalar *token*; every step's Function takes the token as an input, returns
a zero gradient for it and stashes what the shared tensor's gradient needs
(``stash.add``); autograd runs the sink's backward once all consumers of the
token are done, and the sink assembles the gradient from ``stash.take()``.
The stash is kept per backward pass (autograd graph task): a pass that does
not reach the sink (``autograd.grad(loss, inputs)``,
``backward(inputs=...)``) stashes nothing, so it leaves nothing behind for
the next one.

Users: :class:`SequenceLinear` (a weight gradient of all steps as one GEMM,
``dW = sum_t ds_t^T x_t``) and :class:`hman_mmaction.models.feature_map.
FeatureMap` (the feature map's gradient written once for all steps).

Private torch APIs: the stash asks autograd whether the running backward
pass will reach the sink (``torch._C._will_engine_execute_node``) and keys
itself by the pass (``torch._C._current_graph_task_id``). Both are
private; :data:`PRIVATE_APIS_CHECKED` is the torch range they were checked
on (torch 2.13.0: the test suite; 2.11.0: ``tools/device_check.py`` on a
GPU). Outside it, or when an attribute is missing,
:func:`private_api_problem` says so and the head's plan takes the reference
loop for training steps (:mod:`hman_mmaction.models.plan`).
"""
from collections import defaultdict
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from torch.autograd.function import once_differentiable

from .precision import autocast_off

PRIVATE_APIS = ('_will_engine_execute_node', '_current_graph_task_id')
PRIVATE_APIS_CHECKED = '>=2.11,<2.14'


def private_api_problem(version: Optional[str] = None) -> Optional[str]:
    """None when this torch (or ``version``) is in
    :data:`PRIVATE_APIS_CHECKED` and has :data:`PRIVATE_APIS`, else what is
    wrong, in words."""
    version = torch.__version__ if version is None else version
    missing = [name for name in PRIVATE_APIS if not hasattr(torch._C, name)]
    if missing:
        return (f'torch._C.{missing[0]} (a private torch API), which torch '
                f'{version} does not have')
    try:
        inside = SpecifierSet(PRIVATE_APIS_CHECKED).contains(
            Version(version), prereleases=True)
    except InvalidVersion:
        inside = False
    if not inside:
        return (
            f'private torch APIs (torch._C.{", torch._C.".join(PRIVATE_APIS)})'
            f' checked on torch {PRIVATE_APIS_CHECKED} only, and this is '
            f'torch {version}')
    return None


class PassStash:
    """What the steps of one sequence leave for their sink, per backward
    pass: ``add(kind, *items)`` appends ``items`` under ``kind``; ``take()``
    returns (and forgets) the ``{kind: [items, ...]}`` of the current
    pass."""

    def __init__(self):
        self.sink_node = None  # grad_fn of the token (set by the owner)
        self.passes = {}  # graph task id -> {kind: [items]}

    def add(self, kind: str, *items) -> None:
        """Keep ``items`` if this backward pass will run the sink (there is
        none without a shared tensor that needs a gradient)."""
        if self.sink_node is None or not torch._C._will_engine_execute_node(
                self.sink_node):
            return  # this pass does not want the shared gradient
        task = torch._C._current_graph_task_id()
        self.passes.setdefault(task, defaultdict(list))[kind].append(items)

    def take(self) -> dict:
        return self.passes.pop(torch._C._current_graph_task_id(), {})


def sink_token(sink, shared: torch.Tensor, *args) -> tuple:
    """``(token, stash)``: the zero token of ``sink.apply(shared, *args,
    stash)`` and its fresh stash."""
    stash = PassStash()
    token = sink.apply(shared, *args, stash)
    stash.sink_node = token.grad_fn
    return token, stash


class _WeightGradSink(torch.autograd.Function):
    """Sink of :class:`SequenceLinear`: ``dW = cat(ds)^T cat(x)``, ``db =
    sum ds``."""

    @staticmethod
    def forward(ctx, weight, bias, stash):
        ctx.stash = stash
        ctx.has_bias = bias is not None
        ctx.param_dtype = weight.dtype
        return weight.new_zeros(())

    @staticmethod
    @once_differentiable
    def backward(ctx, _):
        steps = ctx.stash.take().get('steps')
        if not steps:
            return None, None, None
        x = torch.cat([x for x, _ in steps])
        ds = torch.cat([ds for _, ds in steps])
        grad_w = F.linear(ds.t(), x.t()).to(ctx.param_dtype)
        grad_b = ds.sum(0).to(ctx.param_dtype) if ctx.has_bias else None
        return grad_w, grad_b, None


class _DeferredLinear(torch.autograd.Function):
    """``F.linear`` whose backward returns only the input gradient and
    stashes ``(x, ds)`` for :class:`_WeightGradSink`. Under the plan's
    autocast dtype it computes in that dtype, as ``F.linear`` would."""

    @staticmethod
    def forward(ctx, x, token, weight, bias, stash, autocast):
        dtype = x.dtype if autocast is None else autocast
        x_c, w_c = x.to(dtype), weight.to(dtype)
        b_c = None if bias is None else bias.to(dtype)
        with autocast_off(x.device.type):
            out = F.linear(x_c, w_c, b_c)
        ctx.save_for_backward(x_c, w_c)
        ctx.stash = stash
        ctx.x_dtype = x.dtype
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, ds):
        x_c, w_c = ctx.saved_tensors
        ds = ds.to(w_c.dtype)
        ctx.stash.add('steps', x_c, ds)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = F.linear(ds, w_c.t()).to(ctx.x_dtype)
        return grad_x, ds.new_zeros(()), None, None, None, None


class SequenceLinear:
    """``linear`` applied at every step of one sequence, with the weight
    gradient of all steps computed in one GEMM (see the module doc).

    Build one per sequence (per forward pass) with the head's ``plan``
    (:class:`hman_mmaction.models.plan.Plan`): it defers the weight
    gradient when the plan does (``plan.deferred_weights``) and the weight
    needs one; else it is plain ``F.linear``. Any mix of
    backward passes over the same graph (``autograd.grad`` w.r.t. the inputs
    with ``retain_graph=True`` then ``backward()``, ``backward(inputs=...)``)
    gives the weights the gradient ``nn.Linear`` would.
    """

    def __init__(self, linear: nn.Linear, plan):
        self.linear = linear
        self.autocast = plan.autocast
        self.deferred = plan.deferred_weights and linear.weight.requires_grad
        if self.deferred:
            self.token, self.stash = sink_token(_WeightGradSink, linear.weight,
                                                linear.bias)
            # the steps' weights, cast once per sequence under autocast (the
            # gradient reaches the parameters through the sink)
            self.weight, self.bias = (
                t if t is None or self.autocast is None else t.detach().to(
                    self.autocast) for t in (linear.weight, linear.bias))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.deferred:
            return F.linear(x, self.linear.weight, self.linear.bias)
        return _DeferredLinear.apply(x, self.token, self.weight, self.bias,
                                     self.stash, self.autocast)
