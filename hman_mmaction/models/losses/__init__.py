"""The head's losses beyond ``loss_cls``, registry components in mmaction2's
``MODELS`` built from ``dict(type=..., loss_weight=...)`` (as ``BaseHead``
builds ``loss_cls``), so an ablation swaps or re-weights one in a config:

=================  ============================  ======================
head option        component                     key in the loss dict
=================  ============================  ======================
``loss_cls``       mmaction2's ``CrossEntropyLoss``  ``loss_cls``
``loss_aux``       mmaction2's ``CrossEntropyLoss``  ``loss_aux``
``loss_boundary``  :class:`BoundaryRateLoss`     ``loss_bnd``
``loss_attention`` :class:`AttentionCoverageLoss`  ``loss_att``
``loss_predict``   :class:`NextStepPredictionLoss`  ``loss_pred``
``loss_segment``   :class:`BoundarySupervisionLoss`  ``loss_seg``
``loss_entropy``   :class:`AttentionEntropyLoss`  ``loss_ent``
``loss_score_function``  :class:`AttentionScoreFunctionLoss`  ``loss_sf``
=================  ============================  ======================
"""
from .attention_coverage import AttentionCoverageLoss
from .attention_entropy import AttentionEntropyLoss
from .boundary_rate import BoundaryRateLoss
from .boundary_supervision import BoundarySupervisionLoss
from .next_step import NextStepPredictionLoss
from .score_function import AttentionScoreFunctionLoss

__all__ = [
    'AttentionCoverageLoss', 'AttentionEntropyLoss',
    'AttentionScoreFunctionLoss', 'BoundaryRateLoss',
    'BoundarySupervisionLoss', 'NextStepPredictionLoss'
]
