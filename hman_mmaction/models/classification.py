"""``loss_cls`` and the top-k accuracies of a head's class scores, as
mmaction2's ``BaseHead.loss_by_feat`` computes them (same label handling:
hard or soft labels, label smoothing ``y' = (1 - eps) y + eps /
num_classes``), on the scores' device: no copy to numpy, so no host sync
in a training step and nothing that stops ``torch.compile``."""
from typing import Dict, List, Sequence

import torch
import torch.nn as nn


def top_k_accuracy(scores: torch.Tensor,
                   labels: torch.Tensor,
                   topk: Sequence[int] = (1, )) -> List[torch.Tensor]:
    """Fraction of rows of ``scores`` ``[N, classes]`` whose label ``[N]``
    is among the ``k`` highest scores, for each ``k`` (mmaction2's
    ``top_k_accuracy`` on the device: a tensor each)."""
    labels = labels.reshape(-1, 1)
    ranked = scores.topk(min(max(topk), scores.shape[-1]), dim=-1).indices
    hits = ranked == labels  # [N, k_max]
    return [hits[:, :k].any(dim=-1).float().mean() for k in topk]


def classification_losses(head: nn.Module, cls_scores: torch.Tensor,
                          labels: torch.Tensor) -> Dict[str, torch.Tensor]:
    """``loss_cls`` (``head.loss_cls``) and ``top{k}_acc`` (``head.topk``)
    of ``cls_scores`` ``[N, num_classes]`` for ``labels`` ``[N]`` (or ``[N,
    1]``, or ``[N, num_classes]`` soft labels), with ``head.
    label_smooth_eps``, as ``BaseHead.loss_by_feat``."""
    labels = labels.squeeze()
    if labels.dim() == 0 or (labels.dim() == 1
                             and labels.shape[0] == head.num_classes
                             and cls_scores.shape[0] == 1):
        labels = labels.unsqueeze(0)  # one sample (or one soft label)
    losses = dict()
    if cls_scores.shape != labels.shape:  # hard labels
        accuracy = top_k_accuracy(cls_scores.detach(), labels, head.topk)
        for k, value in zip(head.topk, accuracy):
            losses[f'top{k}_acc'] = value
    if head.label_smooth_eps != 0:
        if cls_scores.shape != labels.shape:
            labels = nn.functional.one_hot(
                labels, num_classes=head.num_classes)
        labels = ((1 - head.label_smooth_eps) * labels +
                  head.label_smooth_eps / head.num_classes)
    loss_cls = head.loss_cls(cls_scores, labels)
    if isinstance(loss_cls, dict):
        losses.update(loss_cls)
    else:
        losses['loss_cls'] = loss_cls
    return losses
