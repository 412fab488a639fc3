"""A classification loss of mmaction2 on one of the head's score outputs."""
import torch
import torch.nn as nn


class ClassScoresLoss(nn.Module):
    """``loss(float(outputs.<scores>), labels)`` for a loss with
    mmaction2's classification call ``loss(cls_score, label)`` (e.g. its
    ``CrossEntropyLoss``, weighted by its own ``loss_weight``), so that a
    config's ``loss_aux=dict(type='CrossEntropyLoss', loss_weight=1.0)``
    has the head's one loss call (:mod:`~hman_mmaction.models.losses.
    base`). The head wraps ``loss_aux`` in it, on ``outputs.aux_scores``.

    Args:
        loss (nn.Module): the classification loss.
        scores (str): the field of the outputs it scores.
    """

    def __init__(self, loss: nn.Module, scores: str):
        super().__init__()
        self.loss = loss
        self.scores = scores

    def forward(self,
                outputs,
                labels: torch.Tensor,
                data_samples=None) -> torch.Tensor:
        scores = getattr(outputs, self.scores).float()
        return self.loss(scores, labels.reshape(-1).to(scores.device))
