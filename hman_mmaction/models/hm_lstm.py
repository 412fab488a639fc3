"""Hierarchical multiscale LSTM (Chung, Ahn, Bengio, ICLR 2017).

One step of layer ``l`` (``z^0 = 1``, the input of layer 1 is ``x_hat_t``,
the top layer has no top-down term and, as in Chung et al., no boundary
detector: ``z^L = 0``, so it never FLUSHes; it UPDATEs or COPYs by the
boundary of the layer below)::

    s = W_l [h_{t-1}^l ; z_{t-1}^l h_{t-1}^{l+1} ; z_t^{l-1} h_t^{l-1}] + b_l
    f, i, o = sigmoid(s[:3H]);  g = tanh(s[3H:4H]);  z_hat = s[4H] (l < L)
    FLUSH  (z_{t-1}^l = 1):                      c = i*g
    UPDATE (z_{t-1}^l = 0, z_t^{l-1} = 1):       c = f*c_{t-1} + i*g
    COPY   (z_{t-1}^l = 0, z_t^{l-1} = 0):       c = c_{t-1},  h = h_{t-1}
    h = o * tanh(c) unless COPY;   z_t^l = boundary(z_hat)

``W_l`` is a single ``Linear`` over the concatenation, i.e. one GEMM per
layer per step. The three cases are applied with masks; ``z`` is exactly
0/1 in the forward pass, so masking is exact while the straight-through
gradient still reaches the boundary logits.

Output module (``output='gated'``): ``g^l = sigmoid(w_g^l . [h^1; ...;
h^L])``, ``h_out = ReLU(sum_l g^l W_out^l h^l)``; ``output='top'`` uses
``h^L``.

Speed: ``step(x, state, cells)`` with the cells of
:meth:`HMLSTM.sequence_cells` (one set per sequence, built with the head's
plan, :mod:`hman_mmaction.models.plan`; what ``HMANHead``'s fast path and
``forward(..., plan=plan)`` pass; nothing is kept on the module) runs the
cell GEMMs through :class:`SequenceLinear`, which, where the plan defers
(eager training on the fast path), computes the weight gradient of all
steps in one GEMM at the end of the backward pass (``dW = sum_t ds_t^T
x_t``) instead of one thin ``[4H+1, N] x [N, in]`` GEMM plus an
accumulation per step. Values and gradients are the same.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .deferred import SequenceLinear


class HMLSTMState(NamedTuple):
    h: List[torch.Tensor]  # per layer [N, H]
    c: List[torch.Tensor]  # per layer [N, H]
    z: List[torch.Tensor]  # per layer [N, 1], the boundary of step t


class StepBoundaries(NamedTuple):
    z: torch.Tensor  # [N, L]
    tau: Optional[torch.Tensor]  # [N, L] or None when no layer has one
    logits: torch.Tensor  # [N, D], z_hat of the D layers with a detector


@MODELS.register_module()
class HMLSTM(nn.Module):
    """Stack of HM-LSTM layers with learned boundaries.

    Args:
        input_size (int): size of the input ``x_hat_t`` (given by the head).
        hidden_size (int): ``H``. Defaults to 512.
        num_layers (int): ``L``. Defaults to 2.
        boundary (dict): config of a boundary detector; each layer builds its
            own. ``dict(type='NoBoundary')`` makes this a stacked LSTM.
            Defaults to ``GumbelBoundary`` with ``AdaptiveTemperature``.
        output (str): ``'gated'`` or ``'top'``. Defaults to ``'gated'``.
        output_size (int, optional): size of the gated output. Defaults to
            ``hidden_size``.
        top_boundary (bool): give the top layer a boundary detector too
            (it can then FLUSH). Chung et al. have none there (``z^L = 0``):
            defaults to False; True is an ablation of the old behaviour.
        change_size (int): size of a per-step change feature ``delta_t``
            (given by the head from its ``change_features``) that layer 1's
            boundary logit also sees: ``z_hat^1 = s[4H] + w_delta^T
            delta_t``. Defaults to 0 (none).
    """

    OUTPUTS = ('gated', 'top')

    def __init__(self,
                 input_size: int,
                 hidden_size: int = 512,
                 num_layers: int = 2,
                 boundary: dict = dict(
                     type='GumbelBoundary',
                     temperature=dict(type='AdaptiveTemperature')),
                 output: str = 'gated',
                 output_size: Optional[int] = None,
                 top_boundary: bool = False,
                 change_size: int = 0):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'HMLSTM needs num_layers >= 1, got {num_layers}')
        if output not in self.OUTPUTS:
            raise ValueError(f'HMLSTM output must be one of {self.OUTPUTS}, '
                             f'got {output!r}')
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.output = output
        self.top_boundary = top_boundary
        H = hidden_size
        # layers 1..L-1 (and L with top_boundary) have a detector
        self.num_detectors = num_layers if top_boundary else num_layers - 1
        self.cells = nn.ModuleList()
        for layer in range(num_layers):
            below = input_size if layer == 0 else H
            above = H if layer < num_layers - 1 else 0
            logit = int(layer < self.num_detectors)
            self.cells.append(nn.Linear(H + above + below, 4 * H + logit))
        self.boundaries = nn.ModuleList(
            MODELS.build(boundary, default_args=dict(in_features=H))
            for _ in range(self.num_detectors))
        self.change_proj = (
            nn.Linear(change_size, 1)
            if change_size and self.num_detectors else None)
        if output == 'gated':
            self.output_size = output_size or H
            self.output_gates = nn.Linear(num_layers * H, num_layers)
            self.output_proj = nn.Parameter(
                torch.empty(num_layers, self.output_size, H))
            self.reset_output_proj()
        else:
            self.output_size = H

    def reset_output_proj(self) -> None:
        """Each layer's ``W_out^l`` ``[out, H]`` as the ``nn.Linear(H, out)``
        it is: ``U(-1/sqrt(H), 1/sqrt(H))`` (``kaiming_uniform_`` on the
        3-D parameter would take fan-in ``out * H``)."""
        for weight in self.output_proj:
            nn.init.kaiming_uniform_(weight, a=5**0.5)

    @property
    def learned_detectors(self) -> List[int]:
        """Indices of the layers whose boundary is learned (not
        ``NoBoundary`` and not the detector-less top layer)."""
        return [
            layer for layer, detector in enumerate(self.boundaries)
            if getattr(detector, 'learned', True)
        ]

    def sequence_cells(self, plan) -> List[SequenceLinear]:
        """Cells for the steps of one sequence (build one set per forward
        pass with the head's ``plan`` and give it to every :meth:`step`):
        where the plan defers, one weight-gradient GEMM per layer for the
        whole sequence."""
        return [SequenceLinear(cell, plan) for cell in self.cells]

    def initial_state(self,
                      batch_size: int,
                      h0: Optional[torch.Tensor] = None,
                      c0: Optional[torch.Tensor] = None,
                      device=None,
                      dtype=torch.float32) -> HMLSTMState:
        """State before step 1; ``h0``/``c0`` ``[N, L, H]`` or zeros;
        ``z_0 = 0``."""
        zeros = torch.zeros(
            batch_size,
            self.num_layers,
            self.hidden_size,
            device=device,
            dtype=dtype)
        h0 = zeros if h0 is None else h0
        c0 = zeros if c0 is None else c0
        z0 = torch.zeros(batch_size, 1, device=h0.device, dtype=h0.dtype)
        return HMLSTMState(
            list(h0.unbind(1)), list(c0.unbind(1)), [z0] * self.num_layers)

    def step(self,
             x: torch.Tensor,
             state: HMLSTMState,
             cells: Optional[Sequence] = None,
             change: Optional[torch.Tensor] = None,
             given: Optional[Sequence] = None
             ) -> Tuple[HMLSTMState, StepBoundaries]:
        """One time step for all layers; ``x`` ``[N, input_size]``;
        ``cells`` from :meth:`sequence_cells` (default: the plain
        ``nn.Linear`` cells); ``change`` ``[N, change_size]`` for layer 1's
        detector; ``given`` per detector the step's scheduled ``z`` ``[N]``
        (or None) of a diagnostic detector."""
        H, L = self.hidden_size, self.num_layers
        new_h, new_c, new_z, taus, logits = [], [], [], [], []
        cells = self.cells if cells is None else cells
        below, z_below = x, None  # z^0 = 1
        for layer in range(L):
            h_prev, c_prev = state.h[layer], state.c[layer]
            flush = state.z[layer]
            parts = [h_prev]
            if layer < L - 1:
                parts.append(flush * state.h[layer + 1])
            parts.append(below if z_below is None else z_below * below)
            s = cells[layer](torch.cat(parts, dim=-1))
            f, i, o = torch.sigmoid(s[:, :3 * H]).chunk(3, dim=-1)
            g = torch.tanh(s[:, 3 * H:4 * H])
            if z_below is None:
                update, copy = 1.0 - flush, 0.0
            else:
                update = (1.0 - flush) * z_below
                copy = (1.0 - flush) * (1.0 - z_below)
            c = (1.0 - copy) * (i * g) + (update * f + copy) * c_prev
            h = (1.0 - copy) * (o * torch.tanh(c)) + copy * h_prev
            new_h.append(h)
            new_c.append(c)
            if layer == self.num_detectors:  # the top layer: z^L = 0
                new_z.append(torch.zeros_like(flush))
                taus.append(None)
                break
            z_hat = s[:, 4 * H]
            if layer == 0 and self.change_proj is not None:
                if change is None:
                    raise ValueError(
                        'HMLSTM was built with change_size='
                        f'{self.change_proj.in_features} but step() got no '
                        'change feature')
                z_hat = z_hat + self.change_proj(change).squeeze(-1)
            if given is None or given[layer] is None:
                z, tau = self.boundaries[layer](z_hat, h_prev)
            else:  # a diagnostic detector's scheduled decision
                z, tau = self.boundaries[layer](z_hat, h_prev, given[layer])
            z = z.to(h.dtype).unsqueeze(1)
            logits.append(z_hat)
            new_z.append(z)
            taus.append(tau)
            below, z_below = h, self.boundaries[layer].upward(z)
        logits = (
            torch.stack(logits, dim=1) if logits else x.new_zeros(
                x.shape[0], 0))
        return (HMLSTMState(new_h, new_c, new_z),
                StepBoundaries(
                    torch.cat(new_z, dim=1), _stack_taus(taus), logits))

    def forward(self,
                inputs: torch.Tensor,
                state: Optional[HMLSTMState] = None,
                plan=None) -> Tuple[torch.Tensor, HMLSTMState, torch.Tensor]:
        """Run over ``inputs`` ``[N, T, input_size]``: with a ``plan``
        (:mod:`hman_mmaction.models.plan`) through its
        :meth:`sequence_cells`, else through the plain ``nn.Linear`` cells.

        Returns the hidden states of all layers ``[N, T, L, H]``, the final
        state and the boundaries ``[N, L, T]``.
        """
        if state is None:
            state = self.initial_state(
                inputs.shape[0], device=inputs.device, dtype=inputs.dtype)
        hidden, boundaries = [], []
        cells = self.cells if plan is None else self.sequence_cells(plan)
        for x in inputs.unbind(1):
            state, bounds = self.step(x, state, cells)
            hidden.append(torch.stack(state.h, dim=1))
            boundaries.append(bounds.z)
        return (torch.stack(hidden,
                            dim=1), state, torch.stack(boundaries, dim=2))

    def output_features(self, hidden: torch.Tensor) -> torch.Tensor:
        """Output module over ``hidden`` ``[..., L, H]`` -> ``[..., out]``."""
        if self.output == 'top':
            return hidden[..., -1, :]
        gates = torch.sigmoid(self.output_gates(hidden.flatten(-2)))
        projected = torch.einsum('...lh,loh->...lo', hidden, self.output_proj)
        return torch.relu((gates.unsqueeze(-1) * projected).sum(-2))


def _stack_taus(taus: List[Optional[torch.Tensor]]) -> Optional[torch.Tensor]:
    """Per-layer temperatures ``[N]`` -> ``[N, L]`` (NaN for layers without
    one); ``None`` when no layer has a temperature."""
    present = [t for t in taus if t is not None]
    if not present:
        return None
    filler = torch.full_like(present[0], float('nan'))
    return torch.stack([filler if t is None else t for t in taus], dim=1)
