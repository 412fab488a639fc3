"""HM-AN model components, registered in mmaction2's ``MODELS``."""
from .attention import GumbelHardAttention, SoftAttention
from .boundary import (GumbelBoundary, HardSigmoidBoundary, NoBoundary,
                       OracleBoundary, RandomBoundary)
from .config import set_fused_sequence, use_fused_sequence
from .gumbel import binary_concrete, gumbel_softmax
from .hm_lstm import HMLSTM
from .hman_head import HMANHead
from .losses import (AttentionCoverageLoss, AttentionEntropyLoss,
                     BoundaryRateLoss, BoundarySupervisionLoss,
                     NextStepPredictionLoss)
from .schedule import LinearDecay
from .temperature import (AdaptiveTemperature, AnnealedTemperature,
                          FixedTemperature)

__all__ = [
    'AdaptiveTemperature', 'AnnealedTemperature', 'AttentionCoverageLoss',
    'AttentionEntropyLoss', 'LinearDecay', 'BoundaryRateLoss',
    'BoundarySupervisionLoss', 'FixedTemperature', 'NextStepPredictionLoss',
    'OracleBoundary', 'RandomBoundary', 'GumbelBoundary',
    'GumbelHardAttention', 'HMANHead', 'HMLSTM', 'HardSigmoidBoundary',
    'NoBoundary', 'SoftAttention', 'binary_concrete', 'gumbel_softmax',
    'set_fused_sequence', 'use_fused_sequence'
]
