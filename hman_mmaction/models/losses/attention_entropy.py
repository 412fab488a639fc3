"""An entropy bonus on the attention distribution (Xu et al.'s hard
attention, "Show, Attend and Tell", 2015, their ``lambda_e H[s]``)."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .attention_coverage import _check_weight


@MODELS.register_module()
class AttentionEntropyLoss(nn.Module):
    """``loss_ent = -w * mean_{n,t} H(p_{n,t})``, ``H(p) = -sum_k p_k log
    p_k`` of the attention's ``softmax(e_t)`` (not of the sampled one-hot):
    minimising it keeps the distribution spread, so hard attention keeps
    sampling other locations while the scores are still uninformed.

    Args:
        loss_weight (float): ``w``. Defaults to 0.1.
    """

    def __init__(self, loss_weight: float = 0.1):
        super().__init__()
        _check_weight(type(self).__name__, loss_weight)
        self.loss_weight = loss_weight

    def forward(self, probs: torch.Tensor) -> torch.Tensor:
        """``probs`` ``[V, T, H, W]`` (``attention_probs``) -> scalar."""
        probs = probs.flatten(2).float()
        entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
        return -self.loss_weight * entropy
