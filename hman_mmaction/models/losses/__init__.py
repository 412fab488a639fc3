"""The head's losses beyond ``loss_cls``: registry components in mmaction2's
``MODELS`` built from ``dict(type=..., loss_weight=...)`` (as ``BaseHead``
builds ``loss_cls``), so an ablation swaps or re-weights one in a config.
``HMANHead`` holds them in one ``nn.ModuleDict`` keyed by their option,
calls each on its outputs (:mod:`~hman_mmaction.models.losses.base`) and
logs it under that key:

=======================  ================================================
option = key in the log  component
=======================  ================================================
``loss_cls``             mmaction2's ``CrossEntropyLoss`` (``BaseHead``)
``loss_attention``       :class:`AttentionCoverageLoss`
``loss_entropy``         :class:`AttentionEntropyLoss`
``loss_score_function``  :class:`AttentionScoreFunctionLoss`
``loss_boundary``        :class:`BoundaryRateLoss`
``loss_predict``         :class:`NextStepPredictionLoss`
``loss_segment``         :class:`BoundarySupervisionLoss`
``loss_aux``             mmaction2's ``CrossEntropyLoss`` (in a
                         :class:`ClassScoresLoss`)
=======================  ================================================
"""
from mmaction.registry import MODELS

from .attention_coverage import AttentionCoverageLoss
from .attention_entropy import AttentionEntropyLoss
from .base import HeadLoss
from .boundary_rate import BoundaryRateLoss
from .boundary_supervision import BoundarySupervisionLoss
from .class_scores import ClassScoresLoss
from .next_step import NextStepPredictionLoss
from .score_function import AttentionScoreFunctionLoss

__all__ = [
    'AttentionCoverageLoss', 'AttentionEntropyLoss',
    'AttentionScoreFunctionLoss', 'BoundaryRateLoss',
    'BoundarySupervisionLoss', 'ClassScoresLoss', 'HeadLoss',
    'NextStepPredictionLoss', 'build_loss'
]


def build_loss(name: str, cfg: dict, hidden: int):
    """The loss of the head's option ``name`` from its config: the
    score-function loss gets the size ``hidden`` of the hidden state,
    ``loss_aux`` (a classification loss) scores ``outputs.aux_scores``."""
    if name == 'loss_aux':
        return ClassScoresLoss(MODELS.build(cfg), 'aux_scores')
    default_args = dict(
        in_features=hidden) if name == 'loss_score_function' else None
    return MODELS.build(cfg, default_args=default_args)
