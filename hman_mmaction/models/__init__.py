"""HM-AN model components, registered in mmaction2's ``MODELS``."""
from .attention import GumbelHardAttention, SoftAttention
from .boundary import (GumbelBoundary, HardSigmoidBoundary, NoBoundary,
                       OracleBoundary, RandomBoundary)
from .gumbel import binary_concrete, gumbel_softmax
from .hm_lstm import HMLSTM
from .hman_head import HMANHead
from .losses import (AttentionCoverageLoss, AttentionEntropyLoss,
                     AttentionScoreFunctionLoss, BoundaryRateLoss,
                     BoundarySupervisionLoss, NextStepPredictionLoss)
from .next_step_predictor import NextStepPredictor
from .outputs import HMANOutputs
from .schedule import LinearDecay
from .temperature import (AdaptiveTemperature, AnnealedTemperature,
                          FixedTemperature)

__all__ = [
    'AdaptiveTemperature', 'AnnealedTemperature', 'AttentionCoverageLoss',
    'AttentionEntropyLoss', 'AttentionScoreFunctionLoss', 'LinearDecay',
    'BoundaryRateLoss', 'BoundarySupervisionLoss', 'FixedTemperature',
    'HMANOutputs', 'NextStepPredictionLoss', 'NextStepPredictor',
    'OracleBoundary', 'RandomBoundary', 'GumbelBoundary',
    'GumbelHardAttention', 'HMANHead', 'HMLSTM', 'HardSigmoidBoundary',
    'NoBoundary', 'SoftAttention', 'binary_concrete', 'gumbel_softmax'
]
