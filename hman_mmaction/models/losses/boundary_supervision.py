"""Optional segment supervision of the boundary detectors (beyond the
paper, for data that carries sub-action segments)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from .attention_coverage import _check_weight


@MODELS.register_module()
class BoundarySupervisionLoss(nn.Module):
    """A per-step loss on layer ``l``'s boundary logits ``z_hat``::

        loss_seg = w * mean_{n,t} BCE(sigmoid(z_hat^l_{n,t}), y_{n,t})

    where ``y_{n,t} = 1`` at the step before each ground-truth sub-action
    change (``offset=-1``: the layer ends the old segment there and FLUSHes
    as the new one starts; the targets come from the data samples'
    ``gt_segments`` and ``frame_inds``, see
    :func:`hman_mmaction.models.segment_targets.change_targets`). Off by
    default; runs that use it are supervised, not the paper's setting, and
    are reported apart.

    Args:
        loss_weight (float): ``w``. Defaults to 1.0.
        layer (int): the supervised layer, from 1. Defaults to 1.
        offset (int): step of the target relative to the change step.
            Defaults to -1.
        pos_weight (float, optional): weight of the positive steps (changes
            are rare: ``(1 - r) / r`` balances a change rate ``r``).
            Defaults to None (1).
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 layer: int = 1,
                 offset: int = -1,
                 pos_weight=None):
        super().__init__()
        _check_weight(type(self).__name__, loss_weight)
        self.loss_weight = loss_weight
        self.layer = layer
        self.offset = offset
        self.pos_weight = pos_weight

    def forward(self, logits: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
        """``logits`` ``z_hat`` ``[V, L, T]``, ``targets`` ``[V, T]`` in
        {0, 1} -> scalar."""
        if self.layer > logits.shape[1]:
            raise ValueError(
                f'BoundarySupervisionLoss layer={self.layer}, but only '
                f'{logits.shape[1]} layers have a boundary detector')
        pos_weight = None if self.pos_weight is None else torch.tensor(
            float(self.pos_weight), device=logits.device)
        loss = F.binary_cross_entropy_with_logits(
            logits[:, self.layer - 1].float(),
            targets.float(),
            pos_weight=pos_weight)
        return self.loss_weight * loss
