"""Per-step targets for a boundary detector: the data's sub-action
segments (supervised, beyond the paper) or the peaks of the frames' own
change signal (self-made, unsupervised)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from ..change_features import SCORES, PeakThreshold, change_score, shift_steps
from ..segment_targets import change_targets
from .base import HeadLoss

TARGETS = ('segments', 'change_peaks')


@MODELS.register_module()
class BoundarySupervisionLoss(HeadLoss):
    """A per-step loss on layer ``l``'s boundary logits ``z_hat``
    (``outputs.boundary_logits``)::

        loss_segment = w * mean_{n,t} BCE(sigmoid(z_hat^l_{n,t}), y_{n,t})

    where the targets ``y_{n,t}`` come from ``targets``:

    * ``'segments'`` (SUPERVISED): 1 at each ground-truth sub-action
      change, at the step the stack's timing needs (``offset=None``:
      ``outputs.boundary_offset``; the targets come from the data
      samples' ``gt_segments`` and ``frame_inds``, see
      :func:`hman_mmaction.models.segment_targets.change_targets`). Runs
      that use it are supervised, not the paper's setting, and are reported
      apart;
    * ``'change_peaks'`` (unsupervised, perceptual prediction as in Aakur &
      Sarkar, CVPR 2019, the previous step as the prediction): 1 where the
      view's change score ``d_t`` (``score``: ``'map'``, the feature maps'
      or ``'frame'``, the mean frame features' squared change,
      :mod:`~hman_mmaction.models.change_features`) is above the running
      ``1 - rate`` quantile
      (:class:`~hman_mmaction.models.change_features.PeakThreshold`),
      moved by the timing's offset. Reads no label.

    Args:
        loss_weight (float): ``w``. Defaults to 1.0.
        layer (int): the supervised layer, from 1. Defaults to 1.
        offset (int, optional): step of the target relative to the change
            step. Defaults to None: the timing's.
        pos_weight (float, optional): weight of the positive steps (changes
            are rare: ``(1 - r) / r`` balances a change rate ``r``).
            Defaults to None (1).
        targets (str): ``'segments'`` or ``'change_peaks'``. Defaults to
            ``'segments'``.
        rate (float): the peaks' rate for ``'change_peaks'``. Defaults to
            0.125.
        score (str): the change score of ``'change_peaks'``: ``'map'`` or
            ``'frame'``, or ``'pred_error'``: the squared error of the
            head's next-step predictor (``predictor``, trained by
            ``loss_predict``), ``mean_d (sg(std(y_t)) - P h^l_{t-1})^2``
            (``outputs.prediction_error``), its surprise at step ``t``.
            Defaults to ``'map'``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 layer: int = 1,
                 offset: Optional[int] = None,
                 pos_weight=None,
                 targets: str = 'segments',
                 rate: float = 0.125,
                 score: str = 'map'):
        super().__init__(loss_weight)
        if targets not in TARGETS:
            raise ValueError(f'BoundarySupervisionLoss targets must be one '
                             f'of {TARGETS}, got {targets!r}')
        self.layer = layer
        self.offset = offset
        self.pos_weight = pos_weight
        self.targets = targets
        if score not in SCORES + ('pred_error', ):
            raise ValueError(f'BoundarySupervisionLoss score must be one of '
                             f"{SCORES + ('pred_error', )}, got {score!r}")
        self.score = score
        self.needs_ground_truth = targets == 'segments'
        self.peaks = (
            PeakThreshold(rate) if targets == 'change_peaks' else None)

    def _forward(self, outputs, labels, data_samples) -> torch.Tensor:
        return self.bce(outputs.boundary_logits,
                        self.step_targets(outputs, data_samples))

    def bce(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """``logits`` ``z_hat`` ``[V, L, T]``, ``targets`` ``[V, T]`` in
        {0, 1} -> the unweighted BCE of layer ``layer``."""
        if self.layer > logits.shape[1]:
            raise ValueError(
                f'BoundarySupervisionLoss layer={self.layer}, but only '
                f'{logits.shape[1]} layers have a boundary detector')
        pos_weight = None if self.pos_weight is None else torch.tensor(
            float(self.pos_weight), device=logits.device)
        return F.binary_cross_entropy_with_logits(
            logits[:, self.layer - 1].float(),
            targets.float(),
            pos_weight=pos_weight)

    def step_targets(self, outputs, data_samples) -> torch.Tensor:
        """The targets ``y`` ``[V, T]`` at the offset (class doc): the
        ground-truth changes of ``data_samples``, or the peaks of the change
        score of ``outputs.maps`` / ``frame_means`` / ``prediction_error``.
        """
        offset = outputs.boundary_offset if self.offset is None \
            else self.offset
        if not self.needs_ground_truth:
            if self.score == 'pred_error':
                score = surprise(outputs.prediction_error)
            else:
                score = change_score(self.score, outputs.maps,
                                     outputs.frame_means)
            return shift_steps(self.peaks(score), offset)
        if data_samples is None:
            raise RuntimeError(
                'loss_segment needs the data samples (their gt_segments and '
                'frame_inds): call loss(feats, data_samples) or '
                'loss_by_labels(feats, labels, data_samples)')
        views, steps = outputs.boundaries.shape[0], outputs.boundaries.shape[2]
        return change_targets(
            data_samples,
            views // len(data_samples),
            steps,
            offset=offset,
            device=outputs.boundary_logits.device)


@torch.no_grad()
def surprise(error: torch.Tensor) -> torch.Tensor:
    """``[V, T]``: the squared prediction error ``mean_d e_t^2`` at each
    step ``t >= 1`` (``error`` ``[V, T-1, D]``, predicting step ``t`` from
    ``h_{t-1}``), 0 at ``t = 0``."""
    error = error.pow(2).mean(dim=-1)
    return torch.cat([torch.zeros_like(error[:, :1]), error], dim=1)
