"""Per-iteration schedules of scalar coefficients (registry components).

Like :class:`~hman_mmaction.models.temperature.AnnealedTemperature`, a
schedule has ``value_at(iteration)`` and ``step(iteration)`` and keeps its
current value in a buffer (saved in checkpoints);
:class:`hman_mmaction.engine.GumbelTemperatureHook` steps it before every
training iteration.
"""
import torch
import torch.nn as nn
from mmaction.registry import MODELS


@MODELS.register_module()
class LinearDecay(nn.Module):
    """``value = start * max(0, 1 - iter / end_iter)``: ``start`` at
    iteration 0, falling linearly to 0 at ``end_iter`` and 0 afterwards.

    Args:
        start (float): the value at iteration 0. Defaults to 1.0.
        end_iter (int): the first iteration at which the value is 0.
    """

    def __init__(self, start: float = 1.0, end_iter: int = 150):
        super().__init__()
        if not 0 <= start <= 1 or end_iter < 1:
            raise ValueError('LinearDecay needs 0 <= start <= 1 and '
                             f'end_iter >= 1, got start={start}, '
                             f'end_iter={end_iter}')
        self.start, self.end_iter = float(start), int(end_iter)
        self.register_buffer('value', torch.tensor(self.start))

    def value_at(self, iteration: int) -> float:
        return self.start * max(0.0, 1.0 - iteration / self.end_iter)

    def step(self, iteration: int) -> None:
        self.value.fill_(self.value_at(iteration))

    def forward(self) -> torch.Tensor:
        return self.value
