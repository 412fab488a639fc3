"""The backbone features of a batch of sequences, as the attention reads
them, with the feature map's gradient written once for all steps.

``FeatureMap(x, T)`` views ``x`` ``[V*T, C, H, W]`` as ``a`` ``[V, T, C,
K]`` (``K = H*W``, no copy) and offers what the fast path of ``HMANHead``
takes from it:

* ``frame_means()``: ``mean_k a_{t,k}`` ``[V, T, C]``;
* ``keys(W, b)``: ``W a_{t,k} + b`` ``[V, T, K, A]`` for every ``t, k``:
  as a Function one GEMM over the map permuted in blocks of ``K`` (``[C,
  V*T*K]``), which the weight gradient reuses; as plain ops (without grad,
  compiled, autocast) a batched GEMM on the frames' ``[K, C]`` views (no
  copy of the map);
* ``frames()``: per step a :class:`MapFrame` with ``glimpse(alpha) = sum_k
  alpha_k a_{t,k}`` ``[V, C]`` and ``scores(u) = (a_{t,k}^T u)_k`` ``[V,
  K]``.

All of them are linear in ``a``, so the map's gradient is a sum of rank-one
terms per frame and one GEMM::

    da_t = dx_hat_t alpha_t^T + u_t de_t^T + (dm_t / K) 1^T + W^T dkeys_t^T

The head's plan (:class:`hman_mmaction.models.plan.Plan`) says how the
products run: ``plan.map_functions`` (the fast path's eager training step
without autocast) as Functions, whose backward, when ``x`` requires grad,
stashes the steps' factors for a sink
(:mod:`hman_mmaction.models.deferred`) that writes ``da`` once for all
steps in ``x``'s own layout: one batched GEMM of the stacked factors, added
to the permuted key gradient (for frozen features the Functions run without
the sink). Otherwise (no grad, ``torch.compile``, autocast) the same
products run as plain autograd ops. Values and gradients are the same
(``tests/models/test_feature_map.py``).

:class:`RowsFrame` offers the same two products on a plain ``[N, K, D]``
tensor (the reference loop and direct calls of the attention).
"""
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .deferred import PassStash, sink_token


class RowsFrame:
    """A frame's features as rows ``[N, K, D]`` (plain autograd)."""

    def __init__(self, feats: torch.Tensor):
        self.feats = feats

    def glimpse(self, weights: torch.Tensor) -> torch.Tensor:
        """``sum_k alpha_k a_k``: ``[N, K] -> [N, D]``."""
        weights = weights.to(self.feats.dtype)
        return torch.bmm(weights.unsqueeze(1), self.feats).squeeze(1)

    def scores(self, direction: torch.Tensor) -> torch.Tensor:
        """``a_k^T u``: ``[N, D] -> [N, K]``."""
        direction = direction.to(self.feats.dtype)
        return torch.bmm(self.feats, direction.unsqueeze(-1)).squeeze(-1)


def as_frame(feats_t):
    """A frame object (``glimpse``, ``scores``) for ``feats_t``: a
    :class:`MapFrame` as it is, a ``[N, K, D]`` tensor as a
    :class:`RowsFrame`."""
    return RowsFrame(feats_t) if torch.is_tensor(feats_t) else feats_t


# plain products on a channel-first frame [V, C, K]; the Functions below run
# the same ones
def _glimpse(frame, weights):
    return torch.bmm(frame, weights.to(frame.dtype).unsqueeze(-1)).squeeze(-1)


def _scores(frame, direction):
    return torch.bmm(direction.to(frame.dtype).unsqueeze(1), frame).squeeze(1)


PRODUCTS = dict(glimpse=_glimpse, scores=_scores)


def _keys(maps, weight, bias):
    """``W a + b`` ``[V, T, K, A]`` as plain ops: one batched GEMM of the
    frames' ``[K, C]`` views (strided: no copy of the map) with ``W^T``."""
    V, T, C, K = maps.shape
    rows = maps.reshape(V * T, C, K).transpose(1, 2)  # [N, K, C], a view
    weight_t = weight.t().expand(V * T, C, weight.shape[0])
    if bias is None:
        keys = torch.bmm(rows, weight_t)
    else:
        keys = torch.baddbmm(bias, rows, weight_t)
    return keys.view(V, T, K, -1)


def _keys_by_blocks(blocks, weight, bias):
    """``W blocks + b`` ``[A, V*T*K]`` (``blocks`` ``[C, V*T*K]``)."""
    keys = F.linear(weight, blocks.t())
    if bias is not None:
        keys += bias.unsqueeze(1)
    return keys


def _blocks(maps):
    """``[V, T, C, K]`` -> ``[C, V*T*K]`` (a copy in blocks of ``K``)."""
    return maps.permute(2, 0, 1, 3).reshape(maps.shape[2], -1)


class _MapGradSink(torch.autograd.Function):
    """``da`` from the stashed factors (see the module doc), in the layout
    of ``maps`` ``[V, T, C, K]``: the key term (``W^T dkeys``, one GEMM in
    blocks of ``K``) plus the frame means' term (a broadcast over ``K``),
    then the rank-one terms of the steps added in the same write (one
    batched GEMM)."""

    @staticmethod
    def forward(ctx, maps, stash):
        ctx.stash = stash
        ctx.shape = maps.shape
        return maps.new_zeros(())

    @staticmethod
    @once_differentiable
    def backward(ctx, _):
        parts = ctx.stash.take()
        V, T, C, K = ctx.shape
        base, means = _dense_terms(parts, V * T, C, K)
        left, right = _rank_one_factors(parts, V, T, C, K)
        if left is None:
            grad = None if base is None else base.contiguous()
        elif base is None:
            grad = torch.bmm(left, right)
        else:
            grad = torch.baddbmm(base, left, right)
        if means is not None:  # [N, C] broadcast over K
            means = means.unsqueeze(-1)
            grad = means.expand(-1, -1, K).clone() if grad is None \
                else grad.add_(means)
        return (None if grad is None else grad.view(V, T, C, K)), None


def _dense_terms(parts, N, C, K):
    """``(W^T dkeys, dm / K)``, each ``None`` when absent: the keys' term
    as a strided ``[N, C, K]`` view of one GEMM in blocks of ``K`` (``[C,
    N*K]``, the means' term already added to it in place); else the means'
    term ``[N, C]`` (to broadcast over ``K``)."""
    term = None
    for weight, dkeys in parts.get('keys', ()):  # dkeys [N*K, A]
        product = F.linear(weight.t(), dkeys)
        term = product if term is None else term.add_(product)
    means = [m.reshape(N, C) for (m, ) in parts.get('frames', ())]
    means = sum(means[1:], means[0]) * (1.0 / K) if means else None
    if term is None:
        return None, means
    term = term.view(C, N, K)
    if means is not None:
        term.add_(means.t().unsqueeze(-1))
    return term.permute(1, 0, 2), None


def _rank_one_factors(parts, V, T, C, K):
    """Stack the rank-one terms of every step as ``left`` ``[V*T, C, r]``
    and ``right`` ``[V*T, r, K]`` (``None`` when there are none): one column
    per kind (glimpse, scores), more where a step was taken twice."""
    columns = []  # [left [V, T, C], right [V, T, K], steps filled]
    for kind in ('glimpse', 'scores'):
        first = len(columns)
        for t, col, row in parts.get(kind, ()):
            for left, right, filled in columns[first:]:
                if t not in filled:
                    break
            else:
                left = col.new_zeros(V, T, C)
                right = row.new_zeros(V, T, K)
                filled = set()
                columns.append((left, right, filled))
            left[:, t] = col
            right[:, t] = row
            filled.add(t)
    if not columns:
        return None, None
    left = torch.stack([c[0] for c in columns], dim=-1)
    right = torch.stack([c[1] for c in columns], dim=-2)
    return left.view(V * T, C, -1), right.view(V * T, -1, K)


def _token_grad(ctx, index, like):
    """The zero gradient of the sink's token (None without a sink)."""
    return like.new_zeros(()) if ctx.needs_input_grad[index] else None


class _FrameProduct(torch.autograd.Function):
    """A product with a channel-first frame ``a_t`` ``[V, C, K]``:
    ``'glimpse'``: ``x_hat = a_t alpha`` (``alpha`` ``[V, K]``), backward
    ``dalpha = a_t^T dx_hat``; ``'scores'``: ``e = a_t^T u`` (``u`` ``[V,
    C]``), backward ``du = a_t de``. Each is the other's backward, and the
    map's rank-one term ``(C-side, K-side)`` is stashed: ``(dx_hat, alpha)``
    or ``(u, de)``."""

    @staticmethod
    def forward(ctx, operand, token, frame, stash, t, kind):
        ctx.save_for_backward(operand, frame)
        ctx.stash, ctx.t, ctx.kind = stash, t, kind
        return PRODUCTS[kind](frame, operand)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        operand, frame = ctx.saved_tensors
        other = 'scores' if ctx.kind == 'glimpse' else 'glimpse'
        pair = (grad, operand.to(grad.dtype))  # (C-side, K-side)
        ctx.stash.add(ctx.kind, ctx.t,
                      *(pair if ctx.kind == 'glimpse' else pair[::-1]))
        grad_operand = None
        if ctx.needs_input_grad[0]:
            grad_operand = PRODUCTS[other](frame, grad).to(operand.dtype)
        return (grad_operand, _token_grad(ctx, 1,
                                          grad), None, None, None, None)


class _FrameMeans(torch.autograd.Function):
    """``mean_k a_{t,k}``; backward stashes ``dm`` for the map."""

    @staticmethod
    def forward(ctx, token, maps, stash):
        ctx.stash = stash
        return maps.mean(dim=3)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        ctx.stash.add('frames', grad)
        return _token_grad(ctx, 0, grad), None, None


class _Keys(torch.autograd.Function):
    """``W a + b`` for all steps and locations, ``[A, V, T, K]``, as one GEMM
    over the map permuted in blocks of ``K`` (``[C, V*T*K]``, kept for the
    backward); backward: ``dW = dkeys^T blocks^T``, ``db``, and ``(W,
    dkeys)`` stashed for the map."""

    @staticmethod
    def forward(ctx, weight, bias, token, values, stash):
        V, T, C, K = values.shape
        blocks = _blocks(values)
        keys = _keys_by_blocks(blocks, weight, bias)
        ctx.save_for_backward(weight, blocks)
        ctx.stash = stash
        ctx.has_bias = bias is not None
        return keys.view(-1, V, T, K)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        weight, blocks = ctx.saved_tensors
        # rows [V*T*K, A] (a view when grad came from [V, T, K, A] steps)
        grad = grad.permute(1, 2, 3, 0).reshape(-1, weight.shape[0])
        ctx.stash.add('keys', weight, grad)
        grad_w = F.linear(grad.t(), blocks) \
            if ctx.needs_input_grad[0] else None
        grad_b = grad.sum(0) if ctx.has_bias and ctx.needs_input_grad[1] \
            else None
        return grad_w, grad_b, _token_grad(ctx, 2, grad), None, None


class MapFrame:
    """Step ``t`` of a :class:`FeatureMap`: the channel-first ``[V, C, K]``
    frame and its two products (see the module doc)."""

    def __init__(self, fmap: 'FeatureMap', t: int, frame: torch.Tensor):
        self.fmap, self.t, self.frame = fmap, t, frame

    def glimpse(self, weights: torch.Tensor) -> torch.Tensor:
        """``sum_k alpha_k a_{t,k}``: ``[V, K] -> [V, C]``."""
        return self._product('glimpse', weights)

    def scores(self, direction: torch.Tensor) -> torch.Tensor:
        """``a_{t,k}^T u``: ``[V, C] -> [V, K]``."""
        return self._product('scores', direction)

    def _product(self, kind: str, operand: torch.Tensor) -> torch.Tensor:
        if self.fmap.deferred:
            return _FrameProduct.apply(operand, self.fmap.token, self.frame,
                                       self.fmap.stash, self.t, kind)
        return PRODUCTS[kind](self.frame, operand)


class FeatureMap:
    """``x`` ``[V*T, C, H, W]`` as ``[V, T, C, K]`` for the attention (see
    the module doc), its products as the head's ``plan`` says. Build one
    per forward pass; nothing outlives it."""

    def __init__(self, x: torch.Tensor, num_segments: int, plan):
        views, channels = x.shape[0] // num_segments, x.shape[1]
        self.maps = x.reshape(views, num_segments, channels, -1)
        # the products as Functions (deferred weight and map gradients) in
        # the fast path's eager training step; the map's gradient by the
        # sink when x needs one
        self.deferred = plan.map_functions
        self.map_grad = self.deferred and x.requires_grad
        if self.map_grad:
            self.token, self.stash = sink_token(_MapGradSink, self.maps)
            self.values = self.maps.detach()
        else:
            self.token, self.stash = None, PassStash()  # nothing collects
            self.values = self.maps

    @property
    def shape(self) -> torch.Size:
        """``[V, T, K, C]``: the rows shape the attention expects."""
        V, T, C, K = self.maps.shape
        return torch.Size((V, T, K, C))

    def frame_means(self) -> torch.Tensor:
        """``mean_k a_{t,k}`` ``[V, T, C]``."""
        if self.deferred:
            return _FrameMeans.apply(self.token, self.values, self.stash)
        return self.values.mean(dim=3)

    def keys(self, weight: torch.Tensor,
             bias: Optional[torch.Tensor]) -> torch.Tensor:
        """``W a_{t,k} + b`` ``[V, T, K, A]``."""
        if self.deferred:
            keys = _Keys.apply(weight, bias, self.token, self.values,
                               self.stash)
            return keys.permute(1, 2, 3, 0)
        return _keys(self.values, weight, bias)

    def frames(self) -> List[MapFrame]:
        """One :class:`MapFrame` per step (the map unbound once)."""
        return [
            MapFrame(self, t, frame)
            for t, frame in enumerate(self.values.unbind(1))
        ]
