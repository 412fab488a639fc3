"""HM-RNN's own kind of objective: a layer predicts the next step's input."""
import torch
from mmaction.registry import MODELS

from .base import HeadLoss


@MODELS.register_module()
class NextStepPredictionLoss(HeadLoss):
    """A dense predictive loss on the head's next-step predictor
    (:class:`~hman_mmaction.models.next_step_predictor.NextStepPredictor`,
    ``HMANHead(predictor=...)``, whose error ``e_t = sg(std(y_{t+1})) - P
    h^l_t`` is ``outputs.prediction_error``)::

        loss_predict = w * mean_{n, t < T} mean_d e_{n,t,d}^2

    A layer that must predict the next input is surprised at a sub-action
    change, which gives its boundary detector a signal the class label does
    not (Chung et al. train HM-RNNs this way).

    Args:
        loss_weight (float): ``w``. Defaults to 1.0.
    """

    def _forward(self, outputs, labels, data_samples) -> torch.Tensor:
        return outputs.prediction_error.pow(2).mean()
