"""What one forward pass of :class:`~hman_mmaction.models.HMANHead` gives:
:class:`HMANOutputs`, the one thing its losses, diagnostics and predict
extras read (``V`` views of ``T`` steps, ``L`` layers of ``H`` units, ``D``
features per glimpse, ``K = H' * W'`` locations of ``C`` channels).

:class:`StepTrace` collects the per-step results of the recurrence and
stacks them along time.
"""
from typing import NamedTuple, Optional, Tuple

import torch


class HMANOutputs(NamedTuple):
    cls_scores: torch.Tensor  # [V, num_classes]
    step_scores: torch.Tensor  # [V, T, num_classes]
    attention: torch.Tensor  # [V, T, H', W'], the weights used
    attention_probs: torch.Tensor  # [V, T, H', W'], softmax of the scores
    boundaries: torch.Tensor  # [V, L, T]
    boundary_logits: torch.Tensor  # [V, D_z, T], z_hat of the D_z detectors
    hidden: torch.Tensor  # [V, T, L, H]
    glimpses: torch.Tensor  # [V, T, D], x_hat_t
    frame_means: torch.Tensor  # [V, T, D], mean_k a_{t,k}
    tau_attention: Optional[torch.Tensor]  # [V, T] or None
    tau_boundary: Optional[torch.Tensor]  # [V, L, T] or None
    #: the feature maps the attention read, [V, T, K, C] (a view of x)
    maps: Optional[torch.Tensor] = None
    #: the next-step predictor's e_t = sg(std(y_{t+1})) - P h^l_t,
    #: [V, T-1, D] float32 (None without a predictor)
    prediction_error: Optional[torch.Tensor] = None
    #: the auxiliary per-frame classifier's scores [V, num_classes]
    #: (training step with ``loss_aux`` only)
    aux_scores: Optional[torch.Tensor] = None
    #: the layers whose boundary is learned (the rate loss's, the logs')
    learned_layers: Tuple[int, ...] = ()
    #: where z = 1 stands relative to the first step of a new motion (the
    #: stack's timing: -1 for 'post', 0 for 'pre')
    boundary_offset: int = -1


class StepTrace:
    """What the steps of one recurrence produce, per step."""

    def __init__(self, frames: torch.Tensor):
        self.frames = frames  # [V, T, D], mean_k a_{t,k}
        self.hidden, self.glimpses, self.weights, self.probs = [], [], [], []
        self.bounds, self.logits, self.tau_att, self.tau_bnd = [], [], [], []

    def add(self, glance, glimpse, state, bounds) -> None:
        self.hidden.append(torch.stack(state.h, dim=1))  # [V, L, H]
        self.glimpses.append(glimpse)
        self.weights.append(glance.weights)
        self.probs.append(glance.probs)
        self.bounds.append(bounds.z)
        self.logits.append(bounds.logits)
        self.tau_att.append(glance.tau)
        self.tau_bnd.append(bounds.tau)

    def previous(self) -> Tuple[Optional[torch.Tensor], ...]:
        """The last step's glimpse ``[V, D]`` and hidden states ``[V, L,
        H]`` (None before the first step)."""
        if not self.glimpses:
            return None, None
        return self.glimpses[-1], self.hidden[-1]

    def stacked(self, height: int, width: int) -> dict:
        """The steps stacked along time, as the fields of
        :class:`HMANOutputs` they become."""
        views = self.frames.shape[0]
        return dict(
            attention=torch.stack(self.weights,
                                  1).view(views, -1, height, width),
            attention_probs=torch.stack(self.probs,
                                        1).view(views, -1, height, width),
            boundaries=torch.stack(self.bounds, dim=2),
            boundary_logits=torch.stack(self.logits, dim=2),
            hidden=torch.stack(self.hidden, dim=1),
            glimpses=torch.stack(self.glimpses, dim=1),
            frame_means=self.frames,
            tau_attention=_stack_or_none(self.tau_att, dim=1),
            tau_boundary=_stack_or_none(self.tau_bnd, dim=2))


def _stack_or_none(items, dim):
    if any(item is None for item in items):
        return None
    return torch.stack(items, dim=dim)
