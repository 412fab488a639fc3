"""Per-step ground-truth change targets ``[V, T]`` from the data samples,
for the diagnostic boundaries (``OracleBoundary``, ``RandomBoundary``) and
the optional segment supervision (``BoundarySupervisionLoss``).

A view sampling ``frame_inds`` ``[T]`` sees the change at frame ``f`` (the
start of every segment but the first) at step ``t(f) = min{t :
frame_inds[t] >= f}`` (as ``BoundaryMetric`` counts it); the target is
``y[t(f) + offset] = 1`` (``offset=-1``: the last step of the old motion).
"""
from typing import Sequence

import numpy as np
import torch

from ..evaluation.boundary_metric import change_steps

MISSING = (
    'the data samples carry no `{key}`: pack it in every pipeline that '
    "feeds this model, e.g. dict(type='PackActionInputs', meta_keys=("
    "'img_shape', 'frame_inds', 'gt_segments')), with data whose "
    'annotation list has a <split>_segments.json sidecar (the generated '
    'synthetic actions; docs/boundaries.md)')


def change_targets(data_samples: Sequence,
                   views: int,
                   steps: int,
                   offset: int = -1,
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
