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

Timing (``timing``). ``'post'`` (Chung et al., the paper): ``z_t^l`` is
decided after the step's cell update and acts at ``t + 1`` (FLUSH then; the
layer above takes ``h_t^l``, which has already mixed in step ``t``): a
boundary at the first step of a new motion ends the old segment one step
late, and the step before it does not show the change yet.
``'pre'`` (causal, acting where it is decided): at step ``t`` the detector
reads ``[x_t ; delta_t ; h^l_{t-1}]`` (:class:`BoundaryReadout`) *before*
the cells, and ``z_t^l = 1`` makes, in the same step, layer ``l + 1``
UPDATE with ``h^l_{t-1}`` (the finished segment) and layer ``l`` FLUSH,
starting its new segment with ``x_t`` and the top-down ``h^{l+1}_t`` that
already holds the finished one::

    z_t^l  = boundary(readout_l(r_t^l)) * z_t^{l-1}       bottom-up, z^0 = 1
    s      = W_l [h_{t-1}^l ; z_t^l h_t^{l+1} ; z_t^{l-1} h_{t-1}^{l-1}] + b_l
    FLUSH (z_t^l = 1) / UPDATE (z_t^{l-1} = 1) / COPY as above, cells run
    top-down (l = L .. 1), layer 1's bottom-up input is x_t.

With ``NoBoundary`` everywhere the stack is a plain stacked LSTM in either
timing (no boundary, nothing to time).

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

from .boundary_readout import BoundaryReadout  # noqa: F401 (registers it)
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
            delta_t`` (paper readout), or part of the readout's input.
            Defaults to 0 (none).
        timing (str): ``'post'`` (the paper's detector, decided after the
            cell update, acting at the next step) or ``'pre'`` (decided
            before the cells, acting in the same step; module doc).
            Defaults to ``'post'``.
        readout (dict, optional): config of a :class:`BoundaryReadout`
            (linear, or an MLP with ``hidden_size``) that computes each
            detector's logit from ``[input ; delta ; h_{t-1}]``. Defaults
            to None: the paper's logit, one more output of the cell's GEMM
            (``'post'`` only; ``'pre'`` then takes a linear readout).
    """

    OUTPUTS = ('gated', 'top')
    TIMINGS = ('post', 'pre')

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
                 change_size: int = 0,
                 timing: str = 'post',
                 readout: Optional[dict] = None):
        super().__init__()
        if timing not in self.TIMINGS:
            raise ValueError(f'HMLSTM timing must be one of {self.TIMINGS}, '
                             f'got {timing!r}')
        if timing == 'pre' and readout is None:
            readout = dict(type='BoundaryReadout')
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
        self.timing = timing
        H = hidden_size
        # layers 1..L-1 (and L with top_boundary) have a detector
        self.num_detectors = num_layers if top_boundary else num_layers - 1
        self.boundaries = nn.ModuleList(
            MODELS.build(boundary, default_args=dict(in_features=H))
            for _ in range(self.num_detectors))
        if self._silent():  # NoBoundary everywhere: an LSTM, no readout
            readout = None
        self.cells = nn.ModuleList()
        for layer in range(num_layers):
            below = input_size if layer == 0 else H
            above = H if layer < num_layers - 1 else 0
            logit = int(layer < self.num_detectors and readout is None)
            self.cells.append(nn.Linear(H + above + below, 4 * H + logit))
        self.readouts = None if readout is None else nn.ModuleList(
            MODELS.build(
                readout,
                default_args=dict(
                    in_features=(input_size +
                                 change_size if layer == 0 else H) + H))
            for layer in range(self.num_detectors))
        self.change_size = change_size
        self.change_proj = (
            nn.Linear(change_size, 1) if change_size and self.num_detectors
            and readout is None else None)
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
    def boundary_offset(self) -> int:
        """Where ``z = 1`` must be, relative to the first step that shows a
        new motion, for the right FLUSH / UPDATE: ``-1`` for ``'post'``
        (the last step of the old motion), ``0`` for ``'pre'``. The default
        ``offset`` of the oracle and of the segment targets."""
        return 0 if self.timing == 'pre' else -1

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
        if h0 is None or c0 is None:
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
        (or None) of a diagnostic detector. ``timing`` picks the order
        (module doc)."""
        cells = self.cells if cells is None else cells
        if self.change_size and self.num_detectors and change is None:
            raise ValueError(
                f'HMLSTM was built with change_size={self.change_size} but '
                'step() got no change feature')
        if self.timing == 'pre' and not self._silent():
            return self._step_pre(x, state, cells, change, given)
        return self._step_post(x, state, cells, change, given)

    def _silent(self) -> bool:
        """Every detector is ``NoBoundary``: a stacked LSTM, no timing."""
        return all(
            not getattr(d, 'learned', True) and not hasattr(d, 'schedule')
            for d in self.boundaries)

    def _cell(self, layer: int, cells, parts, flush, z_below, h_prev, c_prev):
        """Layer ``layer``'s cell on ``cat(parts)`` with the FLUSH /
        UPDATE / COPY masks (``z_below`` None: ``z^0 = 1``, never COPY;
        ``flush`` None: ``z^l = 0``, never FLUSH); returns ``h, c`` and the
        cell's output ``s``. A mask that is a known constant costs no op
        (the same values: ``1 * a`` and ``a + 0`` are exact)."""
        H = self.hidden_size
        s = cells[layer](torch.cat(parts, dim=-1))
        f, i, o = torch.sigmoid(s[:, :3 * H]).chunk(3, dim=-1)
        g = torch.tanh(s[:, 3 * H:4 * H])
        keep = 1.0 if flush is None else 1.0 - flush
        if z_below is None:  # FLUSH or UPDATE: c = i*g + (1 - flush) f c
            update = f if flush is None else keep * f
            c = i * g + update * c_prev
            return o * torch.tanh(c), c, s
        update = z_below if flush is None else keep * z_below
        copy = 1.0 - z_below if flush is None else keep * (1.0 - z_below)
        c = (1.0 - copy) * (i * g) + (update * f + copy) * c_prev
        h = (1.0 - copy) * (o * torch.tanh(c)) + copy * h_prev
        return h, c, s

    def _decide(self, layer: int, z_hat, h_prev, given, dtype):
        """``z`` ``[N, 1]`` and ``tau`` of layer ``layer``'s detector."""
        if given is None or given[layer] is None:
            z, tau = self.boundaries[layer](z_hat, h_prev)
        else:  # a diagnostic detector's scheduled decision
            z, tau = self.boundaries[layer](z_hat, h_prev, given[layer])
        return z.to(dtype).unsqueeze(1), tau

    def _readout(self, layer: int, below, change, h_prev) -> torch.Tensor:
        """``z_hat`` ``[N]`` of :class:`BoundaryReadout` ``layer`` over
        ``[below ; delta (layer 1) ; h_prev]``."""
        parts = [below]
        if layer == 0 and change is not None:
            parts.append(change.to(below.dtype))
        parts.append(h_prev)
        return self.readouts[layer](torch.cat(parts, dim=-1))

    def _step_post(self, x, state, cells, change, given):
        """The paper's order: each layer's cell, then its boundary, which
        acts at ``t + 1``."""
        L = self.num_layers
        new_h, new_c, new_z, taus, logits = [], [], [], [], []
        below, z_below = x, None  # z^0 = 1
        for layer in range(L):
            h_prev, c_prev = state.h[layer], state.c[layer]
            flush = state.z[layer]
            parts = [h_prev]
            if layer < L - 1:
                parts.append(flush * state.h[layer + 1])
            parts.append(below if z_below is None else z_below * below)
            h, c, s = self._cell(layer, cells, parts, flush, z_below, h_prev,
                                 c_prev)
            new_h.append(h)
            new_c.append(c)
            if layer == self.num_detectors:  # the top layer: z^L = 0
                new_z.append(torch.zeros_like(flush))
                taus.append(None)
                break
            if self.readouts is None:
                z_hat = s[:, 4 * self.hidden_size]
                if layer == 0 and self.change_proj is not None:
                    z_hat = z_hat + self.change_proj(change).squeeze(-1)
            else:
                z_hat = self._readout(layer, below, change, h_prev)
            z, tau = self._decide(layer, z_hat, h_prev, given, h.dtype)
            logits.append(z_hat)
            new_z.append(z)
            taus.append(tau)
            below, z_below = h, self.boundaries[layer].upward(z)
        return self._result(x, new_h, new_c, new_z, taus, logits)

    def _step_pre(self, x, state, cells, change, given):
        """Decide first (bottom-up, from ``[x_t ; delta_t ; h_{t-1}]``),
        then run the cells top-down so that a layer starting a new segment
        gets the top-down state that already holds the finished one."""
        L, D = self.num_layers, self.num_detectors
        dtype = state.h[0].dtype
        zs, ups, taus, logits = [], [], [], []
        for layer in range(D):
            h_prev = state.h[layer]
            below = x if layer == 0 else state.h[layer - 1]
            z_hat = self._readout(layer, below, change, h_prev)
            z, tau = self._decide(layer, z_hat, h_prev, given, dtype)
            if layer:  # a layer ends a segment only when its input ticks
                z = z * ups[layer - 1]
            zs.append(z)
            ups.append(self.boundaries[layer].upward(z))
            taus.append(tau)
            logits.append(z_hat)
        new_h, new_c = [None] * L, [None] * L
        silent = state.h[0].new_zeros(x.shape[0], 1)  # z^L = 0
        for layer in reversed(range(L)):
            h_prev, c_prev = state.h[layer], state.c[layer]
            flush = zs[layer] if layer < D else None  # None: z = 0
            z_below = None if layer == 0 else ups[layer - 1]
            parts = [h_prev]
            if layer < L - 1:
                parts.append(flush * new_h[layer + 1])
            parts.append(x if layer == 0 else z_below * state.h[layer - 1])
            new_h[layer], new_c[layer], _ = self._cell(layer, cells, parts,
                                                       flush, z_below, h_prev,
                                                       c_prev)
        return self._result(x, new_h, new_c, zs + [silent] * (L - D),
                            taus + [None] * (L - D), logits)

    def _result(self, x, new_h, new_c, new_z, taus, logits):
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
