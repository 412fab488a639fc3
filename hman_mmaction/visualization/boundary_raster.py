"""Learned boundaries of many test clips against the ground truth, one row
per clip: a filled cell where layer ``l`` fired (``z_t = 1``), a dashed
mark at each ground-truth change step ``t(f)`` (the first step that sees
the new motion; a boundary within one step of it is a hit, as
``BoundaryMetric`` counts). Drawn from ``tools/test.py --dump`` predictions
of a run with ``--boundaries`` (they carry ``boundaries``, ``frame_inds``
and ``gt_segments``)."""
from typing import Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..evaluation.boundary_metric import change_steps


def raster_rows(results: Sequence[dict], layer: int = 0, view: int = 0):
    """``(z [N, T], changes [N lists])`` of layer ``layer`` (from 0), view
    ``view`` of each dumped prediction."""
    rows, changes = [], []
    for result in results:
        z = np.asarray(result['boundaries'], dtype=float)
        if z.ndim == 3:  # [views, L, T]
            z = z[view]
        steps = z.shape[-1]
        inds = np.asarray(result['frame_inds']).reshape(-1)
        block = inds[view * steps:(view + 1) * steps]
        rows.append(z[layer])
        changes.append(change_steps(block, result['gt_segments']))
    return np.stack(rows), changes


def plot_boundary_raster(z: np.ndarray,
                         changes: Sequence[Sequence[int]],
                         path: str,
                         title: Optional[str] = None,
                         dpi: int = 100) -> str:
    """Write the raster of ``z`` ``[N, T]`` with the ``changes`` to
    ``path`` (PNG)."""
    clips, steps = z.shape
    fig = Figure(figsize=(0.32 * steps + 1.2, 0.26 * clips + 1.1))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(
        z,
        cmap='Blues',
        vmin=0,
        vmax=1.4,
        aspect='auto',
        interpolation='nearest')
    for row, steps_of_row in enumerate(changes):
        for t in steps_of_row:  # between the old motion's last step and t
            ax.plot([t - 0.5, t - 0.5], [row - 0.45, row + 0.45],
                    color='#8e44ad',
                    linestyle='--',
                    linewidth=1.6)
    ax.set_xticks(range(steps))
    ax.set_yticks(range(clips))
    ax.set_xlabel(
        'sampled step t (filled: layer-1 boundary z_t = 1; '
        'dashed: ground-truth motion change)',
        fontsize=8)
    ax.set_ylabel('test clip', fontsize=8)
    ax.tick_params(labelsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path
