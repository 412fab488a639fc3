"""Straight-through Gumbel-softmax and binary Concrete samples.

Both are computed in float32 with autocast disabled and the temperature
clamped to ``tau >= tau_min``, so they stay finite for temperatures down to
0.01 and logits up to +-1e4 under bf16/fp16 autocast.

References: Jang, Gu, Poole, ICLR 2017; Maddison, Mnih, Teh, ICLR 2017.
"""
from typing import Union

import torch

from .precision import autocast_off

TAU_MIN = 0.01
GUMBEL_EPS = 1e-10
UNIFORM_EPS = 1e-6

Temperature = Union[float, torch.Tensor]


def _as_float32(tau: Temperature, like: torch.Tensor,
                tau_min: float) -> torch.Tensor:
    tau = torch.as_tensor(tau, device=like.device).float()
    return tau.clamp(min=tau_min)


def straight_through(hard: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
    """Forward ``hard`` exactly, backward through ``soft``.

    ``hard + (soft - soft.detach())`` rather than ``hard - soft.detach() +
    soft``: the added term is exactly zero, so the forward value is exactly
    ``hard`` (0/1), not ``hard`` up to rounding.
    """
    return hard + (soft - soft.detach())


def gumbel_softmax(logits: torch.Tensor,
                   tau: Temperature = 1.0,
                   hard: bool = True,
                   dim: int = -1,
                   tau_min: float = TAU_MIN) -> torch.Tensor:
    """Sample ``y = softmax((logits + g) / tau)``, ``g = -log(-log(u + eps) +
    eps)``, ``u ~ U(0, 1)``.

    With ``hard=True`` the forward value is the one-hot ``argmax`` of ``y``
    and the gradient is that of ``y`` (straight-through). ``tau`` may be a
    float or a tensor broadcastable to ``logits`` (e.g. ``[N, 1]``).
    Returns float32.
    """
    with autocast_off(logits.device.type):
        logits = logits.float()
        tau = _as_float32(tau, logits, tau_min)
        u = torch.rand_like(logits)
        g = -torch.log(-torch.log(u + GUMBEL_EPS) + GUMBEL_EPS)
        y = torch.softmax((logits + g) / tau, dim=dim)
        if not hard:
            return y
        index = y.argmax(dim=dim, keepdim=True)
        one_hot = torch.zeros_like(y).scatter_(dim, index, 1.0)
        return straight_through(one_hot, y)


def binary_concrete(logits: torch.Tensor,
                    tau: Temperature = 1.0,
                    hard: bool = True,
                    tau_min: float = TAU_MIN) -> torch.Tensor:
    """Two-class Gumbel-softmax on logits ``(logits, 0)`` (Gumbel-sigmoid).

    ``z_soft = sigmoid((logits + log u - log(1 - u)) / tau)``; with
    ``hard=True`` the forward value is ``1[z_soft > 0.5]`` (computed as the
    sign of the argument, which is the same event without rounding at
    saturation) and the gradient is that of ``z_soft``. ``P(z = 1) =
    sigmoid(logits)`` for every ``tau``. Returns float32.
    """
    with autocast_off(logits.device.type):
        logits = logits.float()
        tau = _as_float32(tau, logits, tau_min)
        u = torch.rand_like(logits).clamp(UNIFORM_EPS, 1.0 - UNIFORM_EPS)
        argument = (logits + torch.log(u) - torch.log1p(-u)) / tau
        z_soft = torch.sigmoid(argument)
        if not hard:
            return z_soft
        return straight_through((argument > 0).float(), z_soft)
