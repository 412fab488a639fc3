"""The score-function (REINFORCE) estimator of hard attention's gradient
with a learned baseline (Xu et al., "Show, Attend and Tell", 2015)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from .attention_entropy import mean_attention_entropy
from .base import check_weight


@MODELS.register_module()
class AttentionScoreFunctionLoss(nn.Module):
    """The surrogate loss through which ``GumbelHardAttention(estimator=
    'score_function')`` learns (its sample carries no gradient)::

        R_n     = log p(y_n | glimpses)       (from sg(class scores))
        b_{n,t} = w_b^T sg([h^1 .. h^L]_{n,t-1}) + c   ('learned', h_0 = 0)
                  or mean_n R_n                        ('mean')
        loss    = w * -mean_{n,t} (R_n - sg(b_{n,t})) log p(s_{n,t})
                  + w_v * mean_{n,t} (b_{n,t} - R_n)^2      ('learned')
                  - w_e * mean_{n,t} H(p_{n,t})

    ``log p(s_t)`` is the log of ``softmax(e_t / s)`` at the sampled
    location (the argmax of the weights used, which stays the sample under
    a ``soft_mix`` curriculum). Each term has its own weight (so this is
    not a ``BaseWeightedLoss``; it has the same call as the head's other
    losses, :mod:`~hman_mmaction.models.losses.base`) and reads ``outputs.
    cls_scores``, ``attention``, ``attention_probs``, ``hidden`` and the
    labels. The gradient of the first term is an
    unbiased estimate of ``-grad E_s[R]``; the baseline, which depends on
    the past only, leaves it unbiased and reduces its variance.

    Args:
        in_features (int): ``L * H`` of the hidden state (filled in by the
            head).
        loss_weight (float): ``w``. Defaults to 1.0.
        baseline (str): ``'learned'`` (default), ``'mean'`` or ``'none'``.
        baseline_weight (float): ``w_v``. Defaults to 1.0.
        entropy_weight (float): ``w_e``. Defaults to 0.0.
    """

    BASELINES = ('learned', 'mean', 'none')

    def __init__(self,
                 in_features: int,
                 loss_weight: float = 1.0,
                 baseline: str = 'learned',
                 baseline_weight: float = 1.0,
                 entropy_weight: float = 0.0):
        super().__init__()
        name = type(self).__name__
        check_weight(name, loss_weight)
        check_weight(name, baseline_weight)
        check_weight(name, entropy_weight)
        if baseline not in self.BASELINES:
            raise ValueError(f'{name} baseline must be one of '
                             f'{self.BASELINES}, got {baseline!r}')
        self.loss_weight = loss_weight
        self.baseline = baseline
        self.baseline_weight = baseline_weight
        self.entropy_weight = entropy_weight
        self.fc_baseline = (
            nn.Linear(in_features, 1) if baseline == 'learned' else None)
        if self.fc_baseline is not None:
            nn.init.zeros_(self.fc_baseline.weight)
            nn.init.zeros_(self.fc_baseline.bias)

    @staticmethod
    def reward(cls_scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``R`` ``[V]``: ``log p(y)`` of the detached scores ``[V, C]``;
        ``labels`` ``[V]`` (or ``[V, 1]``) class indices or ``[V, C]`` soft
        labels."""
        log_p = F.log_softmax(cls_scores.detach().float(), dim=-1)
        if labels.dim() == 2 and labels.shape[1] == log_p.shape[1] > 1:
            return (labels.float() * log_p).sum(-1)
        return log_p.gather(1, labels.reshape(-1, 1).long()).squeeze(1)

    def forward(self,
                outputs,
                labels: torch.Tensor,
                data_samples=None) -> torch.Tensor:
        """The weighted terms above (``labels`` as :meth:`reward`)."""
        return self.surrogate(outputs.cls_scores,
                              labels.to(outputs.cls_scores.device),
                              outputs.attention, outputs.attention_probs,
                              outputs.hidden)

    def surrogate(self, cls_scores: torch.Tensor, labels: torch.Tensor,
                  attention: torch.Tensor, probs: torch.Tensor,
                  hidden: torch.Tensor) -> torch.Tensor:
        """``cls_scores`` ``[V, C]``, ``labels`` as :meth:`reward`,
        ``attention`` / ``probs`` ``[V, T, H, W]`` (the weights used and
        ``softmax(e_t / s)``), ``hidden`` ``[V, T, L, H]`` -> scalar."""
        reward = self.reward(cls_scores, labels)  # [V]
        probs = probs.flatten(2).float()  # [V, T, K]
        sample = attention.detach().flatten(2).argmax(-1, keepdim=True)
        log_prob = probs.gather(
            -1, sample).squeeze(-1).clamp_min(1e-12).log()  # [V, T]
        loss = probs.new_zeros(())
        if self.baseline == 'learned':
            past = hidden.detach().flatten(2).float()  # h_t -> b_{t+1}
            past = torch.cat([torch.zeros_like(past[:, :1]), past[:, :-1]],
                             dim=1)
            base = self.fc_baseline(past).squeeze(-1)  # [V, T]
            loss = loss + self.baseline_weight * (
                (base - reward[:, None])**2).mean()
            base = base.detach()
        elif self.baseline == 'mean':
            base = reward.mean().expand_as(log_prob)
        else:
            base = torch.zeros_like(log_prob)
        advantage = reward[:, None] - base
        loss = loss - self.loss_weight * (advantage * log_prob).mean()
        if self.entropy_weight:
            loss = loss - self.entropy_weight * mean_attention_entropy(probs)
        return loss
