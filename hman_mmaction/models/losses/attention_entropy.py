"""An entropy term on the attention distribution: a bonus (Xu et al.'s hard
attention, "Show, Attend and Tell", 2015, their ``lambda_e H[s]``) or a
penalty."""
import torch
from mmaction.registry import MODELS

from .base import HeadLoss


@MODELS.register_module()
class AttentionEntropyLoss(HeadLoss):
    """``loss_entropy = -w * mean_{n,t} H(p_{n,t})`` (``mode='maximize'``)
    or ``+w * mean_{n,t} H(p_{n,t})`` (``'minimize'``), ``H(p) = -sum_k p_k
    log p_k`` of the attention's ``softmax(e_t)`` (``outputs.
    attention_probs``, not the sampled one-hot). Maximising keeps the
    distribution spread, so hard attention keeps sampling other locations
    while the scores are uninformed; minimising makes soft attention commit
    to locations (what a soft-to-hard curriculum hands over to the hard
    samples).

    Args:
        loss_weight (float): ``w``. Defaults to 0.1.
        mode (str): ``'maximize'`` (default) or ``'minimize'``.
    """

    MODES = ('maximize', 'minimize')

    def __init__(self, loss_weight: float = 0.1, mode: str = 'maximize'):
        super().__init__(loss_weight)
        if mode not in self.MODES:
            raise ValueError(f'AttentionEntropyLoss mode must be one of '
                             f'{self.MODES}, got {mode!r}')
        self.sign = -1.0 if mode == 'maximize' else 1.0

    def _forward(self, outputs, labels, data_samples) -> torch.Tensor:
        return self.sign * mean_attention_entropy(outputs.attention_probs)


def mean_attention_entropy(probs: torch.Tensor) -> torch.Tensor:
    """``mean_{n,t} H(p_{n,t})``, ``H(p) = -sum_k p_k log p_k``, of
    attention distributions ``[V, T, H, W]`` (or ``[V, T, K]``), float32."""
    probs = probs.flatten(2).float()
    return -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
