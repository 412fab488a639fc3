"""HM-RNN's own kind of signal: a layer predicts the next step's input.

:class:`NextStepPredictor` is a head component (``HMANHead(predictor=
dict(type='NextStepPredictor', target='frame', layer=1))``): in the
forward pass it gives the error of layer ``l``'s prediction of the next
step's standardised input::

    e_t = sg(std(y_{t+1})) - P h^l_t          [V, T-1, D], float32

with ``std`` zero mean and unit variance over the features (so the scale
of the backbone does not set the error's) and ``sg`` stop-gradient. Its
readers: ``NextStepPredictionLoss`` (``loss_predict = w * mean e^2``,
which trains ``P``), ``change_features=['pred_error']`` (the error at step
``t`` as layer 1's change signal) and ``BoundarySupervisionLoss(score=
'pred_error')`` (its squared error as the change score).
"""
import torch
import torch.nn as nn
from mmaction.registry import MODELS


@MODELS.register_module()
class NextStepPredictor(nn.Module):
    """``P h^l_t``, a linear prediction of ``y_{t+1}`` (module doc).

    Args:
        in_features (int): ``H`` (filled in by the head).
        target_features (int): ``D`` of the target (filled in by the head).
        target (str): ``'glimpse'``: the next attention glimpse ``x_hat``
            (the input of layer 1); ``'frame'``: the next frame's mean
            feature ``mean_k a_{t+1,k}`` (independent of the attention).
            Defaults to ``'frame'``.
        layer (int): the predicting layer, from 1. Defaults to 1.
    """

    TARGETS = ('glimpse', 'frame')

    def __init__(self,
                 in_features: int,
                 target_features: int,
                 target: str = 'frame',
                 layer: int = 1):
        super().__init__()
        if target not in self.TARGETS:
            raise ValueError(f'NextStepPredictor target must be one of '
                             f'{self.TARGETS}, got {target!r}')
        if isinstance(layer, bool) or not isinstance(layer, int) or layer < 1:
            raise ValueError('NextStepPredictor layer counts from 1, '
                             f'got {layer!r}')
        self.target = target
        self.layer = layer
        self.fc = nn.Linear(in_features, target_features)

    def source(self, glimpse: torch.Tensor,
               frame: torch.Tensor) -> torch.Tensor:
        """The target's source: ``glimpse`` or ``frame`` (any shape)."""
        return glimpse if self.target == 'glimpse' else frame

    def error(self, hidden: torch.Tensor,
              next_input: torch.Tensor) -> torch.Tensor:
        """``sg(std(y)) - P h`` (float32) for ``hidden`` ``[..., H]`` and
        ``next_input`` ``y`` ``[..., D]``."""
        target = _standardise(next_input.detach().float())
        return target - self.fc(hidden).float()

    def forward(self, hidden: torch.Tensor, glimpses: torch.Tensor,
                frames: torch.Tensor) -> torch.Tensor:
        """``hidden`` ``[V, T, L, H]``, ``glimpses`` and ``frames`` ``[V, T,
        D]`` -> ``e`` ``[V, T-1, D]`` (step ``t`` predicted from ``h_{t-1}``
        at index ``t - 1``)."""
        source = self.source(glimpses, frames)
        return self.error(hidden[:, :-1, self.layer - 1], source[:, 1:])


def _standardise(y: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance over the last axis."""
    return (y - y.mean(-1, keepdim=True)) / (
        y.std(-1, keepdim=True, unbiased=False) + 1e-5)
