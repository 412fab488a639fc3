"""What the boundary detectors of the HM-LSTM get per step besides the
cells' state: layer 1's change feature ``delta_t`` and the diagnostic
detectors' decisions, scheduled before the loop.

Change features (``HMANHead(change_features=[...])``, concatenated in the
order given; :mod:`~hman_mmaction.models.change_features` has the signals)::

    'frame_diff'     (a_bar_t - a_bar_{t-1}) / s                  [V, D]
    'frame_absdiff'  |a_bar_t - a_bar_{t-1}| / s                  [V, D]
    'frame_change'   mean_d (a_bar_t - a_bar_{t-1})^2 / sigma^2   [V, 1]
    'glimpse_diff'   (x_hat_t - x_hat_{t-1}) / s                  [V, D]
    'map_diff'       mean_k |a_{t,k} - a_{t-1,k}| / s_C           [V, C]
    'map_change'     mean_{k,c} (a_{t,k,c} - a_{t-1,k,c})^2 / sigma^2  [V, 1]
    'pred_error'     sg(std(y_t)) - P h^l_{t-1}  (the predictor's)  [V, D]

with ``a_bar_t = mean_k a_{t,k}`` the mean frame features, ``s`` their
mean ``|a_bar|`` over the view per channel, and ``delta_1 = 0``.

Schedules (:func:`boundary_schedules`): per detector the ``[V, T]``
decisions of a diagnostic one (``OracleBoundary``, ``RandomBoundary``:
``schedule(changes)`` of the ground-truth changes at the detector's
offset; ``ChangePeakBoundary``: ``schedule_scores`` of a change score), or
None for a learned one.
"""
from typing import Callable, List, Optional, Sequence

import torch

from .change_features import (abs_frame_changes, change_score,
                              frame_change_score, map_signals)
from .segment_targets import change_targets

CHANGE_FEATURES = ('frame_diff', 'glimpse_diff', 'map_diff', 'pred_error',
                   'frame_absdiff', 'frame_change', 'map_change')


def frame_maps(x: torch.Tensor, num_segments: int) -> torch.Tensor:
    """``x`` ``[V*T, C, H, W]`` -> ``a`` ``[V, T, K, C]`` (a view, no
    copy)."""
    views, channels = x.shape[0] // num_segments, x.shape[1]
    return x.reshape(views, num_segments, channels, -1).transpose(2, 3)


def change_size(kinds: Sequence[str], in_channels: int,
                feat_channels: int) -> int:
    """The size of ``delta_t`` for ``kinds`` (module doc)."""
    sizes = dict(map_diff=in_channels, frame_change=1, map_change=1)
    return sum(sizes.get(kind, feat_channels) for kind in kinds)


class StepInputs:
    """The change feature and the scheduled decisions of each step of one
    forward pass (module doc): the maps of ``x`` ``[V*T, C, H, W]``
    (:func:`frame_maps`), ``frames`` ``a_bar`` ``[V, T, D]``, ``predictor``
    (for ``'pred_error'``) and ``schedules`` from
    :func:`boundary_schedules`."""

    def __init__(self, kinds: Sequence[str], x: torch.Tensor,
                 num_segments: int, frames: torch.Tensor, predictor,
                 schedules: Optional[List]) -> None:
        self.kinds = tuple(kinds)
        self.frames = frames
        self.predictor = predictor
        self.schedules = schedules
        self.precomputed = map_signals(frame_maps(x, num_segments), self.kinds)
        if 'map_change' in self.precomputed:
            self.precomputed['map_change'] = self.precomputed[
                'map_change'].unsqueeze(-1)
        if 'frame_absdiff' in self.kinds:
            self.precomputed['frame_absdiff'] = abs_frame_changes(frames)
        if 'frame_change' in self.kinds:
            self.precomputed['frame_change'] = frame_change_score(
                frames).unsqueeze(-1)
        self.scale = frames.detach().abs().mean(
            dim=1).clamp_min(1e-6) if self.kinds else None  # [V, D]

    def change(self, t: int, glimpse: torch.Tensor,
               previous: Optional[torch.Tensor],
               hidden: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """``delta_t`` ``[V, change_size]`` (or None) for step ``t`` with
        this step's and the previous step's glimpse ``[V, D]`` and the
        previous step's hidden states ``[V, L, H]``."""
        if not self.kinds:
            return None
        parts = []
        for kind in self.kinds:
            if kind in self.precomputed:
                parts.append(self.precomputed[kind][:, t])
            elif t == 0 or previous is None:
                parts.append(torch.zeros_like(self.frames[:, 0]))
            elif kind == 'frame_diff':
                parts.append(
                    (self.frames[:, t] - self.frames[:, t - 1]) / self.scale)
            elif kind == 'glimpse_diff':
                parts.append((glimpse - previous) / self.scale)
            else:  # pred_error
                predictor = self.predictor
                error = predictor.error(
                    hidden[:, predictor.layer - 1],
                    predictor.source(glimpse, self.frames[:, t]))
                parts.append(error.to(glimpse.dtype))
        return torch.cat(parts, dim=-1)

    def step_kwargs(self, t: int, glimpse: torch.Tensor,
                    previous: Optional[torch.Tensor],
                    hidden: Optional[torch.Tensor]) -> dict:
        """``change`` and ``given`` for ``rnn.step`` (empty without them, so
        another recurrent stack needs no such arguments)."""
        kwargs = {}
        change = self.change(t, glimpse, previous, hidden)
        if change is not None:
            kwargs['change'] = change
        if self.schedules is not None:
            kwargs['given'] = [
                None if z is None else z[:, t] for z in self.schedules
            ]
        return kwargs


def boundary_schedules(detectors: Sequence, maps: torch.Tensor,
                       frames: torch.Tensor, data_samples, num_segments: int,
                       offset_of: Callable) -> Optional[List]:
    """Per detector the ``[V, T]`` decisions of a diagnostic detector
    (``schedule`` of the ground-truth changes at ``offset_of(detector)``,
    or ``schedule_scores`` of the change score of ``maps`` ``[V, T, K, C]``
    or ``frames`` ``[V, T, D]``), None for a learned one; None when there
    is no diagnostic one."""
    if not any(
            hasattr(d, 'schedule') or hasattr(d, 'schedule_scores')
            for d in detectors):
        return None
    views, device = frames.shape[0], frames.device
    schedules = []
    for detector in detectors:
        if hasattr(detector, 'schedule_scores'):
            score = change_score(detector.score, maps, frames)
            schedules.append(
                detector.schedule_scores(score, offset_of(detector)))
            continue
        if not hasattr(detector, 'schedule'):
            schedules.append(None)
            continue
        if detector.needs_ground_truth:
            if data_samples is None:
                raise RuntimeError(
                    f'{type(detector).__name__} needs the ground-truth '
                    'sub-action segments of the data samples; call '
                    'HMANHead.run(x, data_samples) (loss() and '
                    'predict() do)')
            changes = change_targets(
                data_samples,
                views // len(data_samples),
                num_segments,
                offset=offset_of(detector),
                device=device)
        else:
            changes = torch.zeros(views, num_segments, device=device)
        schedules.append(detector.schedule(changes))
    return schedules
