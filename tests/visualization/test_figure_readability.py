"""Figures of real videos are readable (issue 14, item 9): the boundary
figure keeps the frames' aspect ratio, the attention grid explains its
``z=|.`` notation, no text is smaller than 8 pt."""
import re

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.image import AxesImage
from matplotlib.text import Text

from hman_mmaction.visualization.figures import (MIN_FONT,
                                                 attention_grid_figure,
                                                 boundary_figure)
from tests.visualization.test_figures import make_trace


def drawn(fig):
    FigureCanvasAgg(fig).draw()
    return fig


def texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


@pytest.mark.parametrize('height, width', [(36, 64), (64, 36), (32, 32)])
def test_boundary_frame_strip_keeps_the_frame_aspect(height, width):
    trace = make_trace(6, 2, hard=True)
    frames = np.zeros((6, height, width, 3), np.uint8)
    fig = drawn(boundary_figure(trace, frames))
    images = [a for a in fig.findobj(AxesImage)]
    assert len(images) == 6
    for image in images:
        box = image.get_window_extent()
        assert box.width / box.height == pytest.approx(
            width / height, rel=0.03)


def test_attention_grid_explains_its_notation():
    trace = make_trace(8)
    fig = drawn(
        attention_grid_figure(trace, np.zeros((8, 32, 32, 3), np.uint8)))
    titles = [
        t.get_text() for t in texts(fig)
        if re.match(r't=\d+ f=\d+ z=[|.]+', t.get_text())
    ]
    assert len(titles) == 8  # the notation is used ...
    legend = ' '.join(t.get_text() for t in texts(fig)
                      if t.get_text() not in titles).replace('\n', ' ')
    # ... and explained
    assert 'boundary' in legend and '| boundary' in legend
    assert 'none' in legend and 'entropy' in legend


@pytest.mark.parametrize('make', ['grid', 'boundaries'])
def test_no_text_is_smaller_than_8_pt(make):
    trace = make_trace(8, 2, hard=True)
    frames = np.zeros((8, 32, 48, 3), np.uint8)
    fig = (
        attention_grid_figure(trace, frames)
        if make == 'grid' else boundary_figure(trace, frames))
    sizes = [t.get_fontsize() for t in texts(drawn(fig))]
    assert sizes and min(sizes) >= MIN_FONT >= 8
