"""What a boundary detector reads: the logit ``z_hat`` of one layer from
the layer's step input, a change signal and its previous state.

Layer 1 reads ``r_t = [x_t ; delta_t ; h^1_{t-1}]`` (the step's glimpse,
the head's change features, the layer's previous hidden state); layer
``l > 1`` reads ``[h^{l-1} ; h^l_{t-1}]`` (the state handed up from below).

* linear (``hidden_size=None``): ``z_hat = w^T r_t + b``;
* MLP (``hidden_size=M``): ``z_hat = w^T ReLU(W r_t + b_1) + b_2``: a
  comparison such as "the motion changed" is not a sum of a function of the
  past and one of the present, which is all a linear readout of
  ``[x_t ; h_{t-1}]`` can express (docs/boundaries.md).

Used by :class:`hman_mmaction.models.hm_lstm.HMLSTM` with
``readout=dict(type='BoundaryReadout', ...)`` (always with
``timing='pre'``, where the cell has not run yet when the layer decides);
without a readout the paper's detector is one more output of the cell's
GEMM.
"""
from typing import Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS


@MODELS.register_module()
class BoundaryReadout(nn.Module):
    """Boundary logit ``z_hat`` ``[N]`` of ``r`` ``[N, in_features]``.

    Args:
        in_features (int): size of ``r`` (given by ``HMLSTM``).
        hidden_size (int, optional): ``M``, the MLP's width; None for the
            linear readout. Defaults to None.
        bias (float): initial output bias ``b`` (``b_2``): ``sigmoid(b)``
            is the initial firing probability. Defaults to 0.
    """

    def __init__(self,
                 in_features: int,
                 hidden_size: Optional[int] = None,
                 bias: float = 0.0):
        super().__init__()
        if hidden_size is not None and hidden_size < 1:
            raise ValueError('BoundaryReadout hidden_size must be None (a '
                             f'linear readout) or >= 1, got {hidden_size!r}')
        self.in_features = in_features
        self.hidden_size = hidden_size
        if hidden_size is None:
            self.net = nn.Linear(in_features, 1)
        else:
            self.net = nn.Sequential(
                nn.Linear(in_features, hidden_size), nn.ReLU(),
                nn.Linear(hidden_size, 1))
        last = self.net if hidden_size is None else self.net[-1]
        nn.init.constant_(last.bias, bias)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return self.net(r).squeeze(-1)
