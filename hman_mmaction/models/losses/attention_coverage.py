"""Sharma et al.'s doubly stochastic attention penalty."""
import torch
from mmaction.registry import MODELS

from .base import HeadLoss


@MODELS.register_module()
class AttentionCoverageLoss(HeadLoss):
    """``loss_attention = w * mean_n sum_k (1 - sum_t alpha_{n,t,k})^2``:
    every location should get about one step's worth of attention over the
    clip (Sharma, Kiros, Salakhutdinov 2015, their ``lambda``), on
    ``outputs.attention`` (the weights used).

    Args:
        loss_weight (float): ``w``. Defaults to 1.0.
    """

    def _forward(self, outputs, labels, data_samples) -> torch.Tensor:
        return coverage_penalty(outputs.attention)


def coverage_penalty(attention: torch.Tensor) -> torch.Tensor:
    """``mean_n sum_k (1 - sum_t alpha_{n,t,k})^2`` of ``[V, T, H, W]``."""
    coverage = attention.flatten(2).float().sum(dim=1)  # [V, K]
    return (1.0 - coverage).pow(2).sum(dim=1).mean()
