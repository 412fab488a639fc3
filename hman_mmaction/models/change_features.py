"""Per-step change signals of a view's frames: what a boundary detector
needs to see that the motion changed, and a training-free detector built
from one.

``a`` ``[V, T, K, C]`` are a view's feature maps, ``a_bar_t = mean_k
a_{t,k}`` ``[V, T, D]`` its mean frame features; every signal is 0 at
``t = 0`` (no previous step) and scaled by the view's mean absolute feature
(per channel ``s`` for the per-channel vectors; one number ``sigma`` over
all channels for the scores), so that the backbone's scale does not set the
logit's. The scores take one scale for all channels: dividing each channel
by its own mean amplifies the channels that are nearly silent, whose noise
then buries the change (on the hierarchical benchmark's features, peaks of
the per-channel score matched changes at chance, F1 0.34; with one scale,
F1 0.87).

* :func:`map_changes`: ``mean_k |a_{t,k} - a_{t-1,k}| / s_C`` ``[V, T, C]``
  (with :func:`map_change_score`, one pass: :func:`map_signals`);
* :func:`abs_frame_changes`: ``|a_bar_t - a_bar_{t-1}| / s`` ``[V, T, D]``;
* :func:`frame_change_score`: ``d_t = mean_d (a_bar_t - a_bar_{t-1})^2 /
  sigma^2`` ``[V, T]``, one number per step;
* :func:`map_change_score`: ``d_t = mean_{k,c} (a_{t,k,c} - a_{t-1,k,c})^2
  / sigma^2`` ``[V, T]``, the same over whole maps (it sees where in the
  frame something changed, which the mean over locations averages away);
* :class:`PeakThreshold`: ``1[d_t > theta]``, ``theta`` the running (EMA)
  ``1 - r`` quantile of the training steps' ``d`` (the decision of the
  training-free detector and the self-made targets).
"""
from typing import Dict, Sequence

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.autograd.function import once_differentiable


def _scale(frames: torch.Tensor) -> torch.Tensor:
    """``s`` ``[V, 1, D]``: the view's mean ``|a_bar|`` per channel."""
    return frames.detach().abs().mean(dim=1, keepdim=True).clamp_min(1e-6)


def _shifted_diff(frames: torch.Tensor) -> torch.Tensor:
    """``a_bar_t - a_bar_{t-1}`` ``[V, T, D]``, 0 at ``t = 0``."""
    diff = frames[:, 1:] - frames[:, :-1]
    return torch.cat([torch.zeros_like(frames[:, :1]), diff], dim=1)


def map_changes(a: torch.Tensor) -> torch.Tensor:
    """``[V, T, K, C]`` -> ``mean_k |a_{t,k} - a_{t-1,k}| / s_C``
    ``[V, T, C]``."""
    return map_signals(a, ('map_diff', ))['map_diff']


def map_signals(a: torch.Tensor, kinds: Sequence[str]) -> Dict:
    """``'map_diff'`` (:func:`map_changes`, ``[V, T, C]``) and
    ``'map_change'`` (:func:`map_change_score`, ``[V, T]``) of the maps
    ``a`` ``[V, T, K, C]``, those of ``kinds``, from one difference ``a_t -
    a_{t-1}`` taken in ``a``'s memory order (the head's maps are channels
    first: ``[V, T, C, K]`` in memory), and one ``mean |a|`` per channel:
    ``s_C``, and ``sigma`` its mean over the channels."""
    if not {'map_diff', 'map_change'} & set(kinds):
        return {}
    maps = a.transpose(2, 3)  # [V, T, C, K]
    level = maps.detach().abs().mean(dim=(1, 3))  # [V, C]
    scale = level.clamp_min(1e-6).unsqueeze(1)  # s_C [V, 1, C]
    sigma2 = level.mean(dim=1, keepdim=True).clamp_min(1e-6).pow(2)
    outputs = _MapSignals.apply(maps, scale, sigma2, 'map_diff' in kinds,
                                'map_change' in kinds)
    return {
        kind: _zero_first(signal)
        for kind, signal in zip(('map_diff', 'map_change'), outputs)
        if signal is not None
    }


class _MapSignals(torch.autograd.Function):
    """``d = a_t - a_{t-1}`` ``[V, T-1, C, K]`` of ``maps`` ``[V, T, C,
    K]`` -> ``mean_k |d| / s`` ``[V, T-1, C]`` and ``mean_{c,k} d^2 /
    sigma^2`` ``[V, T-1]`` (at least float32; ``s``, ``sigma`` constants;
    None where not asked for). Backward in place on one full-size buffer:
    ``dL/dd = sign(d) g_1 / (K s) + 2 d g_2 / (C K sigma^2)`` (``sign(0) =
    0``, as autograd's), added to ``a_t`` and taken from ``a_{t-1}``. On a
    CPU every full-size tensor costs its first touch; autograd's version
    made more than a dozen."""

    @staticmethod
    def forward(ctx, maps, scale, sigma2, with_diff: bool, with_change: bool):
        ctx.set_materialize_grads(False)
        diff = maps[:, 1:] - maps[:, :-1]
        C, K = maps.shape[2:]
        dtype = torch.promote_types(diff.dtype, torch.float32)
        map_diff = map_change = None
        if with_diff:
            map_diff = diff.abs().sum(dim=3, dtype=dtype) / (K * scale)
        if with_change:
            squares = torch.linalg.vector_norm(
                diff, 2, dim=(2, 3), dtype=dtype).pow(2)
            map_change = squares / (C * K * sigma2)
        ctx.save_for_backward(diff, scale, sigma2)
        return map_diff, map_change

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_diff, grad_change):
        diff, scale, sigma2 = ctx.saved_tensors
        C, K = diff.shape[2:]
        grad = None  # dL/dd
        if grad_diff is not None:
            grad = diff.sign().mul_((grad_diff / (K * scale)).unsqueeze(-1))
        if grad_change is not None:
            weight = (2 * grad_change / (C * K * sigma2))[..., None, None]
            grad = diff * weight if grad is None else grad.addcmul_(
                diff, weight)
        if grad is None:
            return None, None, None, None, None
        grad_maps = diff.new_empty(diff.shape[0], diff.shape[1] + 1,
                                   *diff.shape[2:])
        grad_maps[:, 0].zero_()
        grad_maps[:, 1:].copy_(grad)
        grad_maps[:, :-1].sub_(grad)
        return grad_maps, None, None, None, None


def _zero_first(diff: torch.Tensor) -> torch.Tensor:
    """``[V, T-1, ...]`` -> ``[V, T, ...]`` with zeros at ``t = 0``."""
    return torch.cat([torch.zeros_like(diff[:, :1]), diff], dim=1)


def abs_frame_changes(frames: torch.Tensor) -> torch.Tensor:
    """``[V, T, D]`` -> ``|a_bar_t - a_bar_{t-1}| / s`` ``[V, T, D]``."""
    return _shifted_diff(frames).abs() / _scale(frames)


def _sigma(x: torch.Tensor) -> torch.Tensor:
    """``sigma`` ``[V, 1, ...]``: the view's mean ``|x|`` over everything
    but the view."""
    dims = tuple(range(1, x.dim()))
    return x.detach().abs().mean(dim=dims, keepdim=True).clamp_min(1e-6)


def frame_change_score(frames: torch.Tensor) -> torch.Tensor:
    """``[V, T, D]`` -> ``d_t = mean_d (a_bar_t - a_bar_{t-1})^2 /
    sigma^2`` ``[V, T]``."""
    return (_shifted_diff(frames) / _sigma(frames)).pow(2).mean(dim=-1)


def map_change_score(a: torch.Tensor) -> torch.Tensor:
    """``[V, T, K, C]`` -> ``d_t = mean_{k,c} (a_{t,k,c} - a_{t-1,k,c})^2
    / sigma^2`` ``[V, T]``."""
    return map_signals(a, ('map_change', ))['map_change']


#: the change scores a peak detector can threshold
SCORES = ('map', 'frame')


def change_score(kind: str, maps: torch.Tensor,
                 frames: torch.Tensor) -> torch.Tensor:
    """``'map'`` (:func:`map_change_score` of ``maps`` ``[V, T, K, C]``)
    or ``'frame'`` (:func:`frame_change_score` of ``frames`` ``[V, T,
    D]``), detached: ``[V, T]``."""
    if kind not in SCORES:
        raise ValueError(f'change score must be one of {SCORES}, got '
                         f'{kind!r}')
    if kind == 'map':
        return map_change_score(maps.detach())
    return frame_change_score(frames.detach())


class PeakThreshold(nn.Module):
    """``z_t = 1[d_t > theta]`` for ``t >= 1``; in training ``theta`` moves
    (EMA, ``momentum``; the first call sets it) towards the ``1 - rate``
    quantile of the batch's ``d_t``, ``t >= 1``, so that about ``rate`` of
    the steps fire; evaluation keeps it. In distributed training the
    quantile is taken over every rank's batch (as one process would over
    the global batch), so all ranks hold the same threshold.

    Args:
        rate (float): the firing rate, in (0, 1).
        momentum (float): EMA momentum. Defaults to 0.05.
    """

    def __init__(self, rate: float, momentum: float = 0.05):
        super().__init__()
        if not 0 < rate < 1:
            raise ValueError(f'rate must be in (0, 1), got {rate!r}')
        self.rate, self.momentum = float(rate), momentum
        self.register_buffer('threshold', torch.zeros(()))
        self.register_buffer('calibrated', torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def forward(self, score: torch.Tensor) -> torch.Tensor:
        """``score`` ``d`` ``[V, T]`` -> ``z`` ``[V, T]`` in {0, 1}."""
        score = score.detach().float()
        if self.training and score.shape[1] > 1:
            quantile = torch.quantile(
                all_ranks(score[:, 1:].reshape(-1)), 1.0 - self.rate)
            step = torch.where(self.calibrated, self.momentum, 1.0)
            self.threshold.add_(step * (quantile - self.threshold))
            self.calibrated.fill_(True)
        fired = (score > self.threshold).float()
        fired[:, 0] = 0.0
        return fired


def all_ranks(values: torch.Tensor) -> torch.Tensor:
    """The ``values`` ``[n]`` of every rank, concatenated in rank order
    (ranks may hold different ``n``: a last, smaller batch); ``values``
    itself outside distributed training."""
    if not (dist.is_available()
            and dist.is_initialized()) or dist.get_world_size() == 1:
        return values
    world = dist.get_world_size()
    count = torch.tensor([values.numel()], device=values.device)
    counts = [torch.zeros_like(count) for _ in range(world)]
    dist.all_gather(counts, count)
    counts = [int(c) for c in counts]
    padded = values.new_zeros(max(counts))
    padded[:values.numel()] = values
    gathered = [torch.zeros_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded)
    return torch.cat([g[:c] for g, c in zip(gathered, counts)])


def shift_steps(z: torch.Tensor, offset: int) -> torch.Tensor:
    """``z`` ``[V, T]`` moved by ``offset`` steps (``-1``: each 1 one step
    earlier), zeros where nothing moves in."""
    if offset == 0:
        return z
    out = torch.zeros_like(z)
    T = z.shape[1]
    if offset < 0:
        out[:, :T + offset] = z[:, -offset:]
    else:
        out[:, offset:] = z[:, :T - offset]
    return out
