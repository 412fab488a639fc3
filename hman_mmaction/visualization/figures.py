"""The paper's two figures, drawn with matplotlib's Agg canvas (no pyplot,
no global backend switch, no display needed).

* :func:`plot_attention_grid`: the sampled frames, each with its step's
  attention map as a heat-map (hard attention: the chosen cell outlined),
  titled with the step, the frame time and the class predicted at that step;
  a legend beneath explains the title's notation (``z=|.`` ...).
* :func:`plot_boundaries`: "hierarchical temporal structure": one row per
  layer (top layer first) with a bar at every boundary ``z_t = 1`` and the
  segments it implies shaded, the sampled frames above (at their own aspect
  ratio, letterboxed in their step), the temperatures beneath.

Text is at least :data:`MIN_FONT` pt at the figures' natural size.
"""
import math
import textwrap
from typing import Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .ground_truth import mark_changes
from .overlay import attention_overlay
from .segments import step_runs
from .trace import HMANTrace

PANEL_INCHES = 1.6  # side of one frame of the attention grid (with gap)
TITLE_INCHES = 0.5  # text band above each frame
GAP = 0.03  # white margin around each frame, share of PANEL_INCHES
SEGMENT_COLOURS = ('#dbe9f6', '#fde3c8')
MIN_FONT = 8  # pt, the smallest text of both figures
LEGEND_LINE_INCHES = 0.17  # one line of the grid's legend
GRID_LEGEND = (
    't = step, f = index of the frame in the video; z = boundary of each '
    'HM-LSTM layer at this step, bottom layer first: | boundary (z=1), '
    '. none (z=0); then the class predicted at this step with its score; '
    'H = attention entropy / entropy of uniform attention (1 = uniform); '
    "dashed green, where drawn: the target's ground-truth box.")


def _legend_lines(width_inches: float) -> list:
    """The grid legend wrapped to ``width_inches`` at :data:`MIN_FONT` pt."""
    chars = max(20, int(width_inches * 72 / (0.55 * MIN_FONT)))
    return textwrap.wrap(GRID_LEGEND, chars)


def _legend_inches(width_inches: float) -> float:
    return 0.12 + LEGEND_LINE_INCHES * len(_legend_lines(width_inches))


def grid_layout(num_steps: int, max_cols: int = 8) -> Tuple[int, int]:
    """``(rows, cols)`` of the attention grid."""
    if num_steps < 1:
        raise ValueError('no steps to draw')
    cols = min(num_steps, max_cols)
    return math.ceil(num_steps / cols), cols


def attention_grid_size(num_steps: int,
                        max_cols: int = 8,
                        dpi: int = 100,
                        panel_inches: float = PANEL_INCHES) -> Tuple[int, int]:
    """``(width, height)`` in pixels of the grid PNG (Agg truncates
    inches * dpi)."""
    rows, cols = grid_layout(num_steps, max_cols)
    legend = _legend_inches(cols * panel_inches)
    return (int(cols * panel_inches * dpi),
            int((rows * (panel_inches + TITLE_INCHES) + legend) * dpi))


def _save(fig: Figure, path: str, dpi: int) -> str:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi)  # no bbox_inches: the size stays exact
    return path


def plot_attention_grid(trace: HMANTrace,
                        frames: np.ndarray,
                        path: str,
                        max_cols: int = 8,
                        dpi: int = 100,
                        panel_inches: float = PANEL_INCHES,
                        target_boxes: Optional[Sequence] = None) -> str:
    """Write the grid of ``frames`` (``[T, H, W, 3]`` RGB, the frames of
    ``trace.frame_inds``) with their attention maps to ``path`` (PNG);
    ``target_boxes`` (one ``[x0, y0, x1, y1]`` per step, frame pixels, the
    generator's boxes sidecar) are outlined."""
    return _save(
        attention_grid_figure(trace, frames, max_cols, panel_inches,
                              target_boxes), path, dpi)


def attention_grid_figure(trace: HMANTrace,
                          frames: np.ndarray,
                          max_cols: int = 8,
                          panel_inches: float = PANEL_INCHES,
                          target_boxes: Optional[Sequence] = None) -> Figure:
    """The figure of :func:`plot_attention_grid`."""
    if len(frames) != trace.num_steps:
        raise ValueError(f'{len(frames)} frames for {trace.num_steps} steps')
    if target_boxes is not None and len(target_boxes) != trace.num_steps:
        raise ValueError(
            f'{len(target_boxes)} target boxes for {trace.num_steps} steps')
    rows, cols = grid_layout(trace.num_steps, max_cols)
    cell_h = panel_inches + TITLE_INCHES
    width = cols * panel_inches
    legend = _legend_inches(width)
    total_h = rows * cell_h + legend
    fig = Figure(figsize=(width, total_h))
    hard = trace.hard_attention
    thickness = max(1, frames.shape[1] // 48)
    entropy, uniform = trace.attention_entropy(), math.log(
        trace.attention[0].size)
    predictions = trace.step_predictions()
    for t in range(trace.num_steps):
        row, col = divmod(t, cols)
        inset = GAP * panel_inches
        ax = fig.add_axes([(col * panel_inches + inset) / width,
                           1 - (row * cell_h + cell_h - inset) / total_h,
                           (panel_inches - 2 * inset) / width,
                           (panel_inches - 2 * inset) / total_h])
        ax.imshow(
            attention_overlay(
                frames[t],
                trace.attention[t],
                trace.crop_quadruple,
                trace.flip,
                mark_cell=hard,
                thickness=thickness))
        if target_boxes is not None:
            _outline_box(ax, target_boxes[t], frames.shape[2], frames.shape[1])
        ax.set_axis_off()
        z = ''.join('|' if trace.boundaries[layer, t] > 0.5 else '.'
                    for layer in range(trace.num_layers))
        pred = predictions[t]
        ax.set_title(
            f't={t} f={trace.frame_inds[t]} z={z}\n'
            f'{pred["class_name"]} {pred["score"]:.2f} '
            f'H={entropy[t] / uniform:.2f}',
            fontsize=MIN_FONT,
            pad=2)
    fig.text(
        0.5 * GAP, (legend - 0.06) / total_h,
        '\n'.join(_legend_lines(width)),
        fontsize=MIN_FONT,
        va='top',
        ha='left',
        color='#333333')
    return fig


def _outline_box(ax, box, width: int, height: int) -> None:
    """A dashed green outline of ``box`` (pixels, end exclusive), in
    pieces where it wraps around the frame (the generated videos are a
    torus)."""
    from matplotlib.patches import Rectangle

    from ..datasets.synthetic_actions import box_pieces
    for x0, y0, x1, y1 in box_pieces(box, width, height):
        ax.add_patch(
            Rectangle((x0 - 0.5, y0 - 0.5),
                      x1 - x0,
                      y1 - y0,
                      fill=False,
                      edgecolor='#00dd00',
                      linestyle='--',
                      linewidth=1.0))


def plot_boundaries(trace: HMANTrace,
                    path: str,
                    frames: Optional[np.ndarray] = None,
                    dpi: int = 100,
                    width_inches: Optional[float] = None,
                    changes: Optional[Sequence[int]] = None) -> str:
    """Write the per-layer boundary timeline (with the temperatures beneath
    and, if given, the sampled ``frames`` above and the ground-truth
    motion ``changes`` (steps, see :mod:`.ground_truth`) as dashed lines)
    to ``path`` (PNG)."""
    return _save(
        boundary_figure(trace, frames, width_inches, changes), path, dpi)


def _frame_extent(t: int, frame_shape, ax, fig) -> Tuple[float, ...]:
    """Extent of frame ``t`` in the strip's data units (x: steps, y: [0,
    1]) that shows it at its own aspect ratio, as large as its step's
    0.9 x 1 box allows."""
    box = ax.get_position()
    fig_w, fig_h = fig.get_size_inches()
    x_inches = box.width * fig_w / (ax.get_xlim()[1] - ax.get_xlim()[0])
    y_inches = box.height * fig_h  # per y unit
    height, width = frame_shape[:2]
    w_units = 0.9
    h_units = w_units * x_inches * height / width / y_inches
    if h_units > 1:  # tall frame: fit the height, narrow the width
        w_units, h_units = w_units / h_units, 1.0
    return (t - w_units / 2, t + w_units / 2, 0.5 - h_units / 2,
            0.5 + h_units / 2)


def boundary_figure(trace: HMANTrace,
                    frames: Optional[np.ndarray] = None,
                    width_inches: Optional[float] = None,
                    changes: Optional[Sequence[int]] = None) -> Figure:
    """The figure of :func:`plot_boundaries`."""
    T, L = trace.num_steps, trace.num_layers
    taus = _temperature_series(trace)
    heights = _row_heights(L, frames is not None, bool(taus))
    width, height = boundary_figure_inches(T, L, frames is not None,
                                           bool(taus), width_inches)
    fig = Figure(figsize=(width, height))
    grid = fig.add_gridspec(
        len(heights),
        1,
        height_ratios=heights,
        hspace=0.25,
        left=0.14,
        right=0.98,
        top=0.92,
        bottom=0.55 / height)
    axes = [fig.add_subplot(grid[i]) for i in range(len(heights))]
    for ax in axes[1:]:
        ax.sharex(axes[0])
    row = 0
    if frames is not None:
        ax = axes[row]
        ax.set_xlim(-0.5, T - 0.5)
        for t in range(T):
            # aspect='auto' with an extent of the frame's own aspect ratio:
            # the axis is shared with the rows below, so 'equal' cannot be
            ax.imshow(
                frames[t],
                extent=_frame_extent(t, frames[t].shape, ax, fig),
                aspect='auto')
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_ylabel('frames', fontsize=MIN_FONT + 1)
        row += 1
    steps = np.arange(T)
    for layer in reversed(range(L)):  # top layer first, as in the paper
        ax = axes[row]
        z = trace.boundaries[layer]
        for index, (first, last) in enumerate(step_runs(z)):
            ax.axvspan(
                first - 0.5,
                last + 0.5,
                color=SEGMENT_COLOURS[index % 2],
                lw=0)
        ax.bar(steps, z, width=0.25, color='#c0392b')
        ax.set_ylim(0, 1.05)
        ax.set_yticks([])
        ax.set_ylabel(
            f'layer {layer + 1}\nz',
            fontsize=MIN_FONT + 1,
            rotation=0,
            ha='right',
            va='center')
        row += 1
    if changes:
        mark_changes(axes[row - L:row], changes)
    if taus:
        ax = axes[row]
        for name, series in taus:
            ax.plot(steps, series, marker='o', ms=3, lw=1, label=name)
        ax.set_ylabel('τ', fontsize=MIN_FONT + 2)
        ax.tick_params(labelsize=MIN_FONT)
        ax.legend(fontsize=MIN_FONT, loc='upper right', ncol=len(taus))
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xticks(steps)
    axes[-1].set_xticklabels(
        [f'{t}\n{trace.frame_inds[t] / trace.fps:.2f}s' for t in steps],
        fontsize=MIN_FONT)
    axes[-1].set_xlim(-0.5, T - 0.5)
    axes[-1].set_xlabel('step (time of its frame)', fontsize=MIN_FONT + 1)
    k = int(trace.pred_score.argmax())
    fig.suptitle(
        f'boundaries per layer, top first; prediction: {trace.label(k)} '
        f'({trace.pred_score[k]:.2f})',
        fontsize=MIN_FONT + 2)
    return fig


def _row_heights(num_layers, with_frames, with_taus):
    return ([1.2] if with_frames else
            []) + [0.55] * num_layers + ([1.1] if with_taus else [])


def boundary_figure_inches(num_steps: int,
                           num_layers: int,
                           with_frames: bool,
                           with_taus: bool,
                           width_inches: Optional[float] = None
                           ) -> Tuple[float, float]:
    """``(width, height)`` in inches of :func:`plot_boundaries`' figure:
    a row of frames, one row per layer, a row of temperatures."""
    height = sum(_row_heights(num_layers, with_frames, with_taus)) + 1.0
    return width_inches or max(4.5, 0.75 * num_steps + 1.4), height


def _temperature_series(trace: HMANTrace) -> Sequence[Tuple[str, np.ndarray]]:
    series = []
    if trace.tau_boundary is not None:
        for layer, values in enumerate(trace.tau_boundary):
            if not np.all(np.isnan(values)):
                series.append((f'τ boundary l{layer + 1}', values))
    if trace.tau_attention is not None:
        series.append(('τ attention', trace.tau_attention))
    return series
