"""Temperature sources for the Gumbel samplers (registry components).

Every temperature is a module called with the state it may condition on,
``tau = temperature(state)``, returning a tensor broadcastable to
``[N, 1]``. All accept ``in_features`` (the size of that state) so that one
build call serves every kind; only :class:`AdaptiveTemperature` uses it.
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from .precision import autocast_off


@MODELS.register_module()
class FixedTemperature(nn.Module):
    """A constant ``tau``.

    Args:
        tau (float): the temperature. Defaults to 1.0.
        in_features (int, optional): unused.
    """

    def __init__(self, tau: float = 1.0, in_features: Optional[int] = None):
        super().__init__()
        if tau <= 0:
            raise ValueError(f'FixedTemperature needs tau > 0, got {tau}')
        self.register_buffer('tau', torch.tensor(float(tau)))

    def forward(self, state: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.tau


@MODELS.register_module()
class AnnealedTemperature(nn.Module):
    """``tau = max(tau_min, tau_0 * exp(-rate * iter))``.

    Stepped once per training iteration by
    :class:`hman_mmaction.engine.GumbelTemperatureHook`; the current value is a
    buffer, so it is saved in and restored from checkpoints.

    Args:
        tau_0 (float): start temperature. Defaults to 1.0.
        tau_min (float): floor. Defaults to 0.1.
        rate (float): decay per iteration. Defaults to 1e-4.
        in_features (int, optional): unused.
    """

    def __init__(self,
                 tau_0: float = 1.0,
                 tau_min: float = 0.1,
                 rate: float = 1e-4,
                 in_features: Optional[int] = None):
        super().__init__()
        if not 0 < tau_min <= tau_0:
            raise ValueError('AnnealedTemperature needs 0 < tau_min <= tau_0, '
                             f'got tau_min={tau_min}, tau_0={tau_0}')
        self.tau_0, self.tau_min, self.rate = tau_0, tau_min, rate
        self.register_buffer('tau', torch.tensor(float(tau_0)))

    def value_at(self, iteration: int) -> float:
        return max(self.tau_min, self.tau_0 * math.exp(-self.rate * iteration))

    def step(self, iteration: int) -> None:
        self.tau.fill_(self.value_at(iteration))

    def forward(self, state: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.tau


@MODELS.register_module()
class AdaptiveTemperature(nn.Module):
    """HM-AN's adaptive temperature, learned from the state ``h``:

    ``tau = 1 / (softplus(w . h + b) + 1 / tau_max)``, so ``tau in (0,
    tau_max]``. ``w`` starts at zero and ``b`` such that ``tau == tau_init``.
    (Learning the inverse temperature follows the Gumbel-softmax authors;
    the form is swappable through the registry.)

    Args:
        in_features (int): size of ``h``.
        tau_max (float): upper bound. Defaults to 1.0.
        tau_init (float): initial temperature, ``< tau_max``. Defaults to 0.5.
    """

    def __init__(self,
                 in_features: int,
                 tau_max: float = 1.0,
                 tau_init: float = 0.5):
        super().__init__()
        if not 0 < tau_init < tau_max:
            raise ValueError(
                'AdaptiveTemperature needs 0 < tau_init < tau_max, got '
                f'tau_init={tau_init}, tau_max={tau_max}')
        self.tau_max = tau_max
        self.proj = nn.Linear(in_features, 1)
        inverse_excess = 1.0 / tau_init - 1.0 / tau_max  # softplus(b)
        nn.init.zeros_(self.proj.weight)
        nn.init.constant_(self.proj.bias, math.log(math.expm1(inverse_excess)))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        """``state`` ``[N, in_features]`` -> ``tau`` ``[N, 1]`` (float32)."""
        with autocast_off(state.device.type):
            inverse = F.softplus(self.proj(state.float()))
            return 1.0 / (inverse + 1.0 / self.tau_max)
