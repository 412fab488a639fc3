"""The one interface of the head's auxiliary losses.

Every loss that ``HMANHead`` holds besides ``loss_cls`` is called the same
way, on the head's outputs (:class:`~hman_mmaction.models.outputs.
HMANOutputs`) and the batch's targets::

    loss(outputs, labels, data_samples=None) -> scalar tensor, or None

``labels`` ``[V]`` (``[V, 1]``, or ``[V, num_classes]`` soft labels) and
``data_samples`` (only for the losses that read the ground-truth segments;
``None`` in a compiled training step). ``None`` means the loss has nothing
to measure in this model (the rate loss without a learned detector): the
head logs no value then. A loss reads the outputs; it takes no part in the
forward pass.

:class:`HeadLoss` is mmaction2's ``BaseWeightedLoss`` for this signature:
``forward`` returns ``loss_weight * _forward(...)``.
"""
from typing import Optional

import torch
from mmaction.models.losses import BaseWeightedLoss


class HeadLoss(BaseWeightedLoss):
    """Base of the head's weighted auxiliary losses (module doc).

    Args:
        loss_weight (float): ``w >= 0``. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0):
        check_weight(type(self).__name__, loss_weight)
        super().__init__(loss_weight)

    def forward(self,
                outputs,
                labels: torch.Tensor,
                data_samples=None) -> Optional[torch.Tensor]:
        value = self._forward(outputs, labels, data_samples)
        if value is None:
            return None
        return value * self.loss_weight


def check_weight(owner: str, weight) -> None:
    if isinstance(weight, bool) or not isinstance(weight,
                                                  (int, float)) or weight < 0:
        raise ValueError(
            f'{owner} loss_weight must be a number >= 0, got {weight!r}; '
            'to switch the loss off, set the head option to None')
