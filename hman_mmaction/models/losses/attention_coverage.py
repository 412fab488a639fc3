"""Sharma et al.'s doubly stochastic attention penalty."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS


@MODELS.register_module()
class AttentionCoverageLoss(nn.Module):
    """``loss_att = w * mean_n sum_k (1 - sum_t alpha_{n,t,k})^2``: every
    location should get about one step's worth of attention over the clip
    (Sharma, Kiros, Salakhutdinov 2015, their ``lambda``).

    Args:
        loss_weight (float): ``w``. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        _check_weight(type(self).__name__, loss_weight)
        self.loss_weight = loss_weight

    def forward(self, attention: torch.Tensor) -> torch.Tensor:
        """``attention`` ``[V, T, H, W]`` (the weights used) -> scalar."""
        coverage = attention.flatten(2).float().sum(dim=1)  # [V, K]
        penalty = (1.0 - coverage).pow(2).sum(dim=1).mean()
        return self.loss_weight * penalty


def _check_weight(owner: str, weight) -> None:
    if isinstance(weight, bool) or not isinstance(weight,
                                                  (int, float)) or weight < 0:
        raise ValueError(
            f'{owner} loss_weight must be a number >= 0, got {weight!r}; '
            'to switch the loss off, set the head option to None')
