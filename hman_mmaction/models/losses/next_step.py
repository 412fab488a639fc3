"""HM-RNN's own kind of objective: a layer predicts the next step's input."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .attention_coverage import _check_weight


@MODELS.register_module()
class NextStepPredictionLoss(nn.Module):
    """A dense predictive loss on layer ``l``'s hidden state::

        loss_pred = w * mean_{n, t < T} mean_d (P h^l_t - sg(y_{t+1}))_d^2

    with ``y`` standardised per vector (zero mean, unit variance over the
    features, so the scale of the backbone does not set the weight) and
    ``sg`` stop-gradient. A layer that must predict the next input is
    surprised at a sub-action change, which gives its boundary detector a
    signal the class label does not (Chung et al. train HM-RNNs this way).

    Args:
        in_features (int): ``H`` (filled in by the head).
        target_features (int): ``D`` of the target (filled in by the head).
        loss_weight (float): ``w``. Defaults to 1.0.
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
                 loss_weight: float = 1.0,
                 target: str = 'frame',
                 layer: int = 1):
        super().__init__()
        _check_weight(type(self).__name__, loss_weight)
        if target not in self.TARGETS:
            raise ValueError(f'NextStepPredictionLoss target must be one of '
                             f'{self.TARGETS}, got {target!r}')
        if isinstance(layer, bool) or not isinstance(layer, int) or layer < 1:
            raise ValueError('NextStepPredictionLoss layer counts from 1, '
                             f'got {layer!r}')
        self.loss_weight = loss_weight
        self.target = target
        self.layer = layer
        self.predictor = nn.Linear(in_features, target_features)

    def forward(self, hidden: torch.Tensor, glimpses: torch.Tensor,
                frames: torch.Tensor) -> torch.Tensor:
        """``hidden`` ``[V, T, L, H]``, ``glimpses`` and ``frames``
        ``[V, T, D]`` -> scalar (0 for ``T = 1``)."""
        if self.layer > hidden.shape[2]:
            raise ValueError(
                f'NextStepPredictionLoss layer={self.layer} but the HM-LSTM '
                f'has {hidden.shape[2]} layers')
        source = glimpses if self.target == 'glimpse' else frames
        error = self.error(hidden[:, :-1, self.layer - 1], source[:, 1:])
        return self.loss_weight * error.pow(2).mean()

    def source(self, glimpse: torch.Tensor,
               frame: torch.Tensor) -> torch.Tensor:
        """The target's source at one step: ``glimpse`` or ``frame``."""
        return glimpse if self.target == 'glimpse' else frame

    def error(self, hidden: torch.Tensor, next_input: torch.Tensor):
        """``sg(std(y_{t+1})) - P h^l_t`` (float32), for ``hidden`` ``[...,
        H]`` and ``next_input`` ``[..., D]``: the surprise that the loss
        squares and that ``change_features=['pred_error']`` feeds to layer
        1's boundary detector."""
        target = _standardise(next_input.detach().float())
        return target - self.predictor(hidden).float()


def _standardise(y: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance over the last axis."""
    return (y - y.mean(-1, keepdim=True)) / (
        y.std(-1, keepdim=True, unbiased=False) + 1e-5)
