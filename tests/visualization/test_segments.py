"""Sub-action segments from hand-made boundary patterns."""
import numpy as np
import pytest

from hman_mmaction.visualization.segments import (segments_from_boundaries,
                                                  step_frame_spans, step_runs)

FRAMES = [1, 4, 7, 10, 13, 16, 19, 22]  # 8 steps of a 24-frame video


@pytest.mark.parametrize(
    'z, runs',
    [
        ([0, 0, 0, 0], [(0, 3)]),
        ([1, 1, 1, 1], [(0, 0), (1, 1), (2, 2), (3, 3)]),
        ([0, 1, 0, 0], [(0, 1), (2, 3)]),
        ([1, 0, 0, 1], [(0, 0), (1, 3)]),  # a boundary on the last step cuts
        ([0, 0, 0, 1], [(0, 3)]),  # nothing
        ([0, 1, 0, 0, 1, 0, 0, 0], [(0, 1), (2, 4), (5, 7)]),
        ([1], [(0, 0)]),
    ])
def test_a_boundary_ends_its_segment_after_that_step(z, runs):
    assert step_runs(z) == runs


def test_step_spans_tile_the_whole_video():
    spans = step_frame_spans(FRAMES, 24)
    assert spans[0] == (0, 3) and spans[-1] == (22, 23)
    assert [s for s, _ in spans[1:]] == FRAMES[1:]
    assert all(e + 1 == s for (_, e), (s, _) in zip(spans, spans[1:]))


def test_segments_report_frames_and_seconds_of_the_original_video():
    z = [0, 1, 0, 0, 1, 0, 0, 0]
    segments = segments_from_boundaries(z, FRAMES, 24, fps=8.0)
    assert [(s['start_step'], s['end_step']) for s in segments] == [(0, 1),
                                                                    (2, 4),
                                                                    (5, 7)]
    assert [(s['start_frame'], s['end_frame']) for s in segments] == [(0, 6),
                                                                      (7, 15),
                                                                      (16, 23)]
    assert [(s['start_time'], s['end_time'])
            for s in segments] == [(0.0, 0.875), (0.875, 2.0), (2.0, 3.0)]
    assert [s['index'] for s in segments] == [0, 1, 2]


def test_segments_name_the_class_predicted_at_their_last_step():
    scores = np.full((4, 3), 0.1)
    scores[1, 2] = 0.8  # end of segment 0 -> class 2
    scores[3, 0] = 0.7  # end of segment 1 -> class 0
    segments = segments_from_boundaries([0, 1, 0, 0], [0, 2, 4, 6], 8, 2.0,
                                        scores, ['a', 'b', 'c'])
    assert [(s['class_index'], s['class_name'])
            for s in segments] == [(2, 'c'), (0, 'a')]
    assert segments[0]['score'] == pytest.approx(0.8)
    unnamed = segments_from_boundaries([0, 1, 0, 0], [0, 2, 4, 6], 8, 2.0,
                                       scores)
    assert [s['class_name'] for s in unnamed] == ['2', '0']


@pytest.mark.parametrize('args, message', [
    (([0, 1], [0, 1, 2], 4, 1.0), 'one entry per step'),
    (([0, 1], [2, 1], 4, 1.0), 'increase'),
    (([0, 1], [1, 5], 4, 1.0), 'past the end'),
    (([0, 1], [0, 1], 4, 0.0), 'fps'),
])
def test_inconsistent_inputs_are_refused_with_the_reason(args, message):
    with pytest.raises(ValueError, match=message):
        segments_from_boundaries(*args)
