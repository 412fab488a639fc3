"""The boundary raster: rows from dumped predictions, change steps from the
sampled frames, a PNG written."""
import numpy as np

from hman_mmaction.visualization import plot_boundary_raster, raster_rows


def test_raster_rows_take_layer_and_view_and_the_seen_change_steps(tmp_path):
    z = np.zeros((2, 2, 4))  # [views, L, T]
    z[0, 0, 1] = 1
    z[1, 0, 3] = 1
    result = dict(
        boundaries=z,
        frame_inds=[0, 2, 4, 6, 1, 3, 5, 7],
        gt_segments=[[0, 3, 'up'], [3, 8, 'down']])
    rows, changes = raster_rows([result])
    assert rows.tolist() == [[0, 1, 0, 0]] and changes == [[2]]
    rows, changes = raster_rows([result], view=1)
    assert rows.tolist() == [[0, 0, 0, 1]] and changes == [[1]]
    path = plot_boundary_raster(rows, changes, str(tmp_path / 'r.png'))
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
