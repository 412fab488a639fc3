"""Heat-maps land on the right pixels, the hard-attention cell is outlined,
the grid has one panel per step and the figures have the stated sizes."""
import cv2
import numpy as np
import pytest

from hman_mmaction.visualization import (HMANTrace, attention_grid_size,
                                         attention_on_frame, attention_overlay,
                                         boundary_figure_inches, cell_box,
                                         plot_attention_grid, plot_boundaries)
from hman_mmaction.visualization.figures import GAP, PANEL_INCHES, TITLE_INCHES


def test_cell_box_maps_feature_cells_into_the_crop_of_the_frame():
    # the model saw the centre 40x40 of a 60(h) x 80(w) frame, 4x4 cells
    crop = (20 / 80, 10 / 60, 40 / 80, 40 / 60)
    assert cell_box((0, 0), (4, 4), (60, 80), crop) == (20, 10, 30, 20)
    assert cell_box((3, 1), (4, 4), (60, 80), crop) == (30, 40, 40, 50)
    # a horizontal flip mirrors the column inside the crop
    assert cell_box((3, 1), (4, 4), (60, 80), crop,
                    'horizontal') == (40, 40, 50, 50)


def test_heat_is_zero_outside_the_crop_and_peaks_on_the_attended_cell():
    att = np.zeros((4, 4), np.float32)
    att[2, 3] = 1.0
    crop = (0.25, 0.0, 0.5, 1.0)  # columns 20..59 of an 80-wide frame
    heat = attention_on_frame(att, (40, 80), crop, smooth=False)
    assert heat[:, :20].max() == 0 and heat[:, 60:].max() == 0
    ys, xs = np.nonzero(heat == 1.0)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (20, 29, 50, 59)


def test_hard_attention_outlines_the_chosen_cell_in_white():
    frame = np.full((32, 32, 3), 30, np.uint8)
    att = np.zeros((4, 4), np.float32)
    att[1, 2] = 1.0
    out = attention_overlay(frame, att, mark_cell=True)
    white = np.all(out == 255, axis=2)
    ys, xs = np.nonzero(white)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (8, 15, 16, 23)
    assert not white[10:14, 18:22].any()  # an outline, not a filled box
    soft = attention_overlay(frame, att, mark_cell=False)
    assert not np.all(soft == 255, axis=2).any()


def make_trace(steps=8, layers=2, hard=False, seed=0):
    rng = np.random.default_rng(seed)
    att = rng.random((steps, 4, 4)).astype(np.float32)
    if hard:
        att = (att == att.max(axis=(1, 2), keepdims=True)).astype(np.float32)
    else:
        att /= att.sum(axis=(1, 2), keepdims=True)
    scores = rng.random((steps, 5))
    scores /= scores.sum(1, keepdims=True)
    return HMANTrace(
        attention=att,
        boundaries=(rng.random((layers, steps)) > 0.5).astype(np.float32),
        step_scores=scores,
        pred_score=scores.mean(0),
        frame_inds=np.arange(steps) * 3 + 1,
        total_frames=steps * 3,
        fps=10.0,
        tau_attention=np.full(steps, 0.7) if hard else None,
        tau_boundary=np.full((layers, steps), 0.5))


def panel_runs(line):
    """Runs of non-white pixels along a scan line."""
    ink = np.any(line < 250, axis=-1).astype(int)
    return int(np.sum(np.diff(np.concatenate([[0], ink])) == 1))


@pytest.mark.parametrize('steps, max_cols, rows', [(8, 8, 1), (8, 3, 3),
                                                   (5, 4, 2)])
def test_attention_grid_has_one_panel_per_step(tmp_path, steps, max_cols,
                                               rows):
    trace = make_trace(steps)
    frames = np.full((steps, 32, 32, 3), 30, np.uint8)
    path = str(tmp_path / 'grid.png')
    plot_attention_grid(trace, frames, path, max_cols=max_cols, dpi=50)
    image = cv2.imread(path)
    # (matplotlib truncates inches * dpi: allow one pixel of rounding)
    assert np.allclose(
        image.shape[1::-1],
        attention_grid_size(steps, max_cols, dpi=50),
        atol=1)
    cell = (PANEL_INCHES + TITLE_INCHES) * 50
    counts = []
    for row in range(rows):
        y = int(
            (row *
             (PANEL_INCHES + TITLE_INCHES) + TITLE_INCHES + PANEL_INCHES / 2) *
            50)
        counts.append(panel_runs(image[y]))
        assert row * cell < y < (row + 1) * cell
    assert sum(counts) == steps
    assert counts[0] == min(steps, max_cols)
    assert GAP > 0  # panels are separated, which is what the count relies on


def test_boundary_plot_has_a_row_per_layer_and_the_stated_size(tmp_path):
    for layers in (1, 3):
        trace = make_trace(6, layers, hard=True)
        path = str(tmp_path / f'bnd{layers}.png')
        plot_boundaries(
            trace, path, frames=np.zeros((6, 32, 32, 3), np.uint8), dpi=50)
        w, h = boundary_figure_inches(6, layers, True, True)
        image = cv2.imread(path)
        assert np.allclose(image.shape[:2], (h * 50, w * 50), atol=1)
    three, one = (cv2.imread(str(tmp_path / f'bnd{n}.png')) for n in (3, 1))
    assert three.shape[0] > one.shape[0]


def test_trace_flags_hard_attention_only_when_every_step_is_one_hot():
    assert make_trace(hard=True).hard_attention
    assert not make_trace(hard=False).hard_attention


def test_boundary_plot_marks_the_ground_truth_changes(tmp_path):
    from matplotlib.figure import Figure

    from hman_mmaction.visualization.ground_truth import (CHANGE_STYLE,
                                                          mark_changes)
    axes = Figure().subplots(2, 1)
    lines = mark_changes(list(axes), [3, 5])
    assert len(lines) == 4  # every change on every layer row
    assert sorted({line.get_xdata()[0] for line in lines}) == [2.5, 4.5]
    # in the figure: pixels of the change colour only when changes are given
    colour = np.array(
        [int(CHANGE_STYLE['color'][i:i + 2], 16) for i in (5, 3, 1)])  # BGR

    def has_colour(path):
        image = cv2.imread(path).astype(int)
        return bool((np.abs(image - colour).sum(-1) < 40).any())

    trace = make_trace(8, 2)
    plain, marked = str(tmp_path / 'plain.png'), str(tmp_path / 'gt.png')
    plot_boundaries(trace, plain, dpi=50)
    plot_boundaries(trace, marked, dpi=50, changes=[3])
    assert not has_colour(plain) and has_colour(marked)


def test_attention_grid_outlines_the_target_box_per_step_in_pieces():
    """One dashed outline per step; a box past the right border (the
    generated frames are a torus) is drawn as two pieces."""
    from matplotlib.patches import Rectangle

    from hman_mmaction.visualization.figures import attention_grid_figure
    steps = 3
    trace = make_trace(steps)
    frames = np.zeros((steps, 32, 32, 3), np.uint8)
    boxes = [[2, 3, 7, 8], [10, 10, 15, 15], [29, 4, 34, 9]]
    fig = attention_grid_figure(trace, frames, target_boxes=boxes)
    outlines = [[(p.get_x() + 0.5, p.get_y() + 0.5, p.get_width(),
                  p.get_height()) for p in ax.patches
                 if isinstance(p, Rectangle) and p.get_linestyle() == '--']
                for ax in fig.axes[:steps]]
    assert outlines == [[(2, 3, 5, 5)], [(10, 10, 5, 5)],
                        [(29, 4, 3, 5), (0, 4, 2, 5)]]
    with pytest.raises(ValueError, match='2 target boxes for 3 steps'):
        attention_grid_figure(trace, frames, target_boxes=boxes[:2])
