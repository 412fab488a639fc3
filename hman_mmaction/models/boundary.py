"""Boundary detectors of the HM-LSTM layers (registry components).

A detector turns the boundary logit ``z_hat`` of a layer into ``z in {0,
1}`` (straight-through in training). ``z_t = 1`` means the layer ends a
segment at ``t``: it FLUSHes at ``t + 1``, feeds its state to the layer
above at ``t`` (which then UPDATEs instead of COPYing) and gates the
top-down input of the layer below at ``t + 1``.

``forward(z_hat, state) -> (z, tau)``: ``z_hat`` ``[N]``, ``state`` the layer's
previous hidden state ``[N, H]`` (for adaptive temperatures); ``z`` ``[N]``;
``tau`` the temperature used (``[N]``) or ``None``.
``upward(z)`` is the gate the layer above sees (``z`` except for
:class:`NoBoundary`).
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .gumbel import TAU_MIN, binary_concrete, straight_through

BoundaryResult = Tuple[torch.Tensor, Optional[torch.Tensor]]


@MODELS.register_module()
class GumbelBoundary(nn.Module):
    """HM-AN's stochastic boundary: a binary Concrete sample of ``z_hat``.

    Training: ``z = 1[sigmoid((z_hat + log u - log(1-u)) / tau) > 0.5]``,
    straight-through. Evaluation: ``z = 1[z_hat > 0]`` unless
    ``eval_sample=True`` keeps sampling.

    Args:
        in_features (int): hidden size of the layer (given by ``HMLSTM``).
        temperature (dict): config of a temperature component.
            Defaults to ``AdaptiveTemperature``.
        eval_sample (bool): sample at evaluation too. Defaults to False.
        tau_min (float): temperature floor. Defaults to 0.01.
    """

    def __init__(self,
                 in_features: int,
                 temperature: dict = dict(type='AdaptiveTemperature'),
                 eval_sample: bool = False,
                 tau_min: float = TAU_MIN):
        super().__init__()
        self.temperature = MODELS.build(
            temperature, default_args=dict(in_features=in_features))
        self.eval_sample = eval_sample
        self.tau_min = tau_min

    def forward(self, z_hat: torch.Tensor,
                state: torch.Tensor) -> BoundaryResult:
        tau = self.temperature(state).float().expand(z_hat.shape[0], 1)
        tau = tau.squeeze(1)
        if self.training or self.eval_sample:
            return binary_concrete(z_hat, tau, True, self.tau_min), tau
        return (z_hat > 0).float(), tau

    def upward(self, z: torch.Tensor) -> torch.Tensor:
        return z


@MODELS.register_module()
class HardSigmoidBoundary(nn.Module):
    """Chung et al.'s deterministic boundary with slope annealing.

    ``z_tilde = clip((a * z_hat + 1) / 2, 0, 1)``, ``z = 1[z_tilde > 0.5]``,
    straight-through; the slope ``a = min(slope_max, slope + slope_rate *
    iter)`` is stepped by ``GumbelTemperatureHook`` (``slope_rate=0`` keeps
    it fixed).

    Args:
        in_features (int): unused (uniform build call).
        slope (float): initial slope ``a``. Defaults to 1.0.
        slope_max (float): largest slope. Defaults to 5.0.
        slope_rate (float): slope increase per iteration. Defaults to 0.
    """

    def __init__(self,
                 in_features: Optional[int] = None,
                 slope: float = 1.0,
                 slope_max: float = 5.0,
                 slope_rate: float = 0.0):
        super().__init__()
        self.slope_0, self.slope_max, self.slope_rate = (slope, slope_max,
                                                         slope_rate)
        self.register_buffer('slope', torch.tensor(float(slope)))

    def value_at(self, iteration: int) -> float:
        return min(self.slope_max, self.slope_0 + self.slope_rate * iteration)

    def step(self, iteration: int) -> None:
        self.slope.fill_(self.value_at(iteration))

    def forward(self, z_hat: torch.Tensor,
                state: torch.Tensor) -> BoundaryResult:
        z_tilde = ((self.slope * z_hat.float() + 1.0) / 2.0).clamp(0.0, 1.0)
        return straight_through((z_hat > 0).float(), z_tilde), None

    def upward(self, z: torch.Tensor) -> torch.Tensor:
        return z


@MODELS.register_module()
class NoBoundary(nn.Module):
    """No boundaries: ``z == 0`` (no FLUSH, no top-down input) and the layer
    hands its state up at every step, so every layer UPDATEs every step and
    the stack is a plain stacked LSTM (the attention-LSTM baseline).

    Args:
        in_features (int): unused (uniform build call).
    """

    learned = False  # nothing to keep alive: no rate penalty

    def __init__(self, in_features: Optional[int] = None):
        super().__init__()

    def forward(self, z_hat: torch.Tensor,
                state: torch.Tensor) -> BoundaryResult:
        return torch.zeros_like(z_hat, dtype=torch.float32), None

    def upward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(z)
