"""Per-step ground-truth change targets ``[V, T]`` from the data samples,
for the diagnostic boundaries (``OracleBoundary``, ``RandomBoundary``) and
the optional segment supervision (``BoundarySupervisionLoss``).

A view sampling ``frame_inds`` ``[T]`` sees the change at frame ``f`` (the
start of every segment but the first) at step ``t(f) = min{t :
frame_inds[t] >= f}`` (as ``BoundaryMetric`` counts it); the target is
``y[t(f) + offset] = 1`` (``offset=-1``: the last step of the old motion,
what ``HMLSTM(timing='post')`` needs; ``0``: the first step of the new one,
for ``timing='pre'``; :attr:`HMLSTM.boundary_offset`).
"""
from typing import List, Sequence

import numpy as np
import torch


def change_steps(frame_inds: Sequence[int],
                 segments: Sequence[Sequence]) -> List[int]:
    """Sampled steps ``t(f)`` (module doc) of the motion changes of
    ``segments`` seen by a view sampling ``frame_inds`` ``[T]``; a change
    after the last sampled frame or at ``t = 0`` is not visible and
    dropped; changes on the same step count once."""
    frame_inds = np.asarray(frame_inds).reshape(-1)
    steps = set()
    for segment in list(segments)[1:]:
        f = int(segment[0])
        seen = np.flatnonzero(frame_inds >= f)
        if len(seen) and seen[0] > 0:
            steps.add(int(seen[0]))
    return sorted(steps)


MISSING = (
    'the data samples carry no `{key}`: pack it in every pipeline that '
    "feeds this model, e.g. dict(type='PackActionInputs', meta_keys=("
    "'img_shape', 'frame_inds', 'gt_segments')), with data whose "
    'annotation list has a <split>_segments.json sidecar (the generated '
    'synthetic actions; docs/boundaries.md)')


def change_targets(data_samples: Sequence,
                   views: int,
                   steps: int,
                   offset: int,
                   device=None) -> torch.Tensor:
    """``[len(data_samples) * views, steps]`` float targets; view ``v`` of a
    sample uses block ``v mod (len(frame_inds) / steps)`` of its
    ``frame_inds`` (clips first, as mmaction2 lays them out)."""
    rows = []
    for sample in data_samples:
        meta = sample.metainfo if hasattr(sample, 'metainfo') else sample
        for key in ('frame_inds', 'gt_segments'):
            if key not in meta:
                raise KeyError(MISSING.format(key=key))
        inds = np.asarray(meta['frame_inds']).reshape(-1)
        blocks = max(len(inds) // steps, 1)
        for view in range(views):
            block = inds[(view % blocks) * steps:(view % blocks + 1) * steps]
            row = np.zeros(steps, dtype=np.float32)
            for t in change_steps(block, meta['gt_segments']):
                if 0 <= t + offset < steps:
                    row[t + offset] = 1.0
            rows.append(row)
    return torch.from_numpy(np.stack(rows)).to(device)
