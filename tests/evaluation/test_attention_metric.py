"""AttentionMetric on hand-made maps: boxes to feature-grid cells (stride,
torus wrap, test crop), pointing game with ties, mass on the target and on
the distractors next to uniform attention, hard attention's on-target
rate, views and their frames."""
import numpy as np
import pytest
import torch

from hman_mmaction.evaluation.attention_metric import (AttentionMetric,
                                                       attention_scores,
                                                       box_cells, step_scores)

# a 64 x 64 video seen whole: scale 1, no shift; an 8 x 8 grid (stride 8)
PLAIN = [1, 1, 0, 0, 64, 64, 64, 64]


def _cells(*rc, grid=(8, 8)):
    mask = np.zeros(grid, bool)
    for r, c in rc:
        mask[r, c] = True
    return mask


def test_box_covers_the_cells_it_overlaps():
    np.testing.assert_array_equal(
        box_cells([10, 20, 18, 28], PLAIN, (8, 8)),
        _cells((2, 1), (2, 2), (3, 1), (3, 2)))
    # aligned to the cells: exactly one cell, no neighbour of zero area
    np.testing.assert_array_equal(
        box_cells([16, 8, 24, 16], PLAIN, (8, 8)), _cells((1, 2)))
    # the torus: a box passing the right border also covers column 0
    np.testing.assert_array_equal(
        box_cells([60, 0, 68, 8], PLAIN, (8, 8)), _cells((0, 7), (0, 0)))


def test_stride_is_the_backbones_not_the_grids():
    # 60 px input, a stride-8 backbone gives 8 cells (the last one partial):
    # the box [16, 16, 24, 24) is cell (2, 2); 60 / 8 = 7.5 px cells would
    # put it on (2, 2), (2, 3), (3, 2), (3, 3)
    row = [1, 1, 0, 0, 60, 60, 60, 60]
    np.testing.assert_array_equal(
        box_cells([16, 16, 24, 24], row, (8, 8), stride=8), _cells((2, 2)))
    assert box_cells([16, 16, 24, 24], row, (8, 8)).sum() == 4


def test_boxes_follow_the_test_crop_and_resize():
    # a 128 x 96 (w x h) video resized to 64 x 48, center crop 48 x 48
    # (x from 8), no further resize: x' = 0.5 x - 8, y' = 0.5 y; the input
    # is 48 x 48 on a 6 x 6 grid of stride 8
    row = [0.5, 0.5, -8, 0, 48, 48, 128, 96]
    # video box [48, 32, 64, 48) -> input [16, 16, 24, 24) -> cell (2, 2)
    np.testing.assert_array_equal(
        box_cells([48, 32, 64, 48], row, (6, 6)), _cells((2, 2), grid=(6, 6)))
    # cut by the crop: the part left of x = 16 (input 0) is gone
    np.testing.assert_array_equal(
        box_cells([0, 0, 32, 16], row, (6, 6)), _cells((0, 0), grid=(6, 6)))
    # entirely outside the crop: no cell
    assert not box_cells([0, 0, 12, 12], row, (6, 6)).any()
    # a horizontal flip of the 48-px input: x'' = 48 - x'
    flipped = [-0.5, 0.5, 56, 0, 48, 48, 128, 96]
    np.testing.assert_array_equal(
        box_cells([48, 32, 64, 48], flipped, (6, 6)),
        _cells((2, 3), grid=(6, 6)))


def test_uniform_attention_scores_its_own_baseline():
    target = _cells((0, 0), (0, 1))
    distractors = [_cells((5, 5)), _cells((6, 6), (6, 7), (7, 7))]
    s = step_scores(np.full((8, 8), 1 / 64), target, distractors)
    assert s['pointing'] == pytest.approx(2 / 64)  # ties share the credit
    for key in ('pointing', 'mass_target', 'mass_distractors',
                'mass_per_distractor'):
        assert s[key] == pytest.approx(s[f'{key}_uniform']), key
    assert s['mass_distractors_uniform'] == pytest.approx(4 / 64)
    assert s['mass_per_distractor_uniform'] == pytest.approx(2 / 64)
    assert s['entropy'] == pytest.approx(1.0) and not s['one_hot']


def test_peak_and_mass_of_a_sharp_map():
    target, distractor = _cells((1, 1), (1, 2)), _cells((4, 4))
    alpha = np.full((8, 8), 0.1 / 61)
    alpha[1, 1], alpha[1, 2], alpha[4, 4] = 0.5, 0.2, 0.2
    s = step_scores(alpha, target, [distractor])
    assert s['pointing'] == 1.0
    assert s['mass_target'] == pytest.approx(0.7)
    assert s['mass_distractors'] == pytest.approx(0.2)
    alpha[4, 4], alpha[1, 1] = 0.5, 0.2  # the peak on the distractor
    assert step_scores(alpha, target, [distractor])['pointing'] == 0.0


def test_views_use_their_own_frames_and_hard_maps_give_on_target_rate():
    # the target sits at cell (0, f) in frame f; each step looks at (0, 0)
    boxes = dict(
        target=[[8 * f, 0, 8 * f + 8, 8] for f in range(8)],
        distractors=[[[56, 56, 64, 64]] for _ in range(8)])
    maps = torch.zeros(2, 4, 8, 8)
    maps[:, :, 0, 0] = 1  # one-hot: hard attention
    # view 0 samples frames 0, 2, 4, 6; view 1 frames 0, 1, 3, 5
    inds = [0, 2, 4, 6, 0, 1, 3, 5]
    scores = attention_scores([maps], [inds], [boxes], [np.array([PLAIN])])
    assert scores['views'] == 2 and scores['steps'] == 8
    assert scores['pointing'] == pytest.approx(2 / 8)  # frame 0, twice
    assert scores['hard_on_target'] == scores['pointing']
    assert scores['mass_target_uniform'] == pytest.approx(1 / 64)
    assert scores['target_ratio'] == pytest.approx(0.25 * 64)
    assert scores['t0_pointing'] == 1.0 and scores['t1_pointing'] == 0.0
    first = attention_scores([maps], [inds], [boxes], [np.array([PLAIN])],
                             views='first')
    assert first['views'] == 1 and first['pointing'] == pytest.approx(1 / 4)
    soft = maps.clone()
    soft[:, :, 7, 7] = 1  # two peaks: not one-hot
    assert 'hard_on_target' not in attention_scores([soft], [inds], [boxes],
                                                    [np.array([PLAIN])])


def _sample(**fields):
    base = dict(
        attention_map=torch.full((4, 8, 8), 1 / 64),
        frame_inds=np.array([0, 1, 2, 3]),
        gt_boxes=dict(
            target=[[0, 0, 8, 8]] * 4, distractors=[[[32, 32, 40, 40]]] * 4),
        box_geometry=np.array([PLAIN] * 4, np.float32))
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_metric_reports_prefixed_scores():
    metric = AttentionMetric()
    metric.process(None, [_sample(), _sample()])
    scores = metric.compute_metrics(metric.results)
    assert metric.default_prefix == 'attention'
    assert scores['steps'] == 8
    assert scores['mass_target'] == pytest.approx(1 / 64)
    assert scores['target_ratio'] == pytest.approx(1.0)


@pytest.mark.parametrize('missing, fix', [
    ('attention_map', 'return_extras=True'),
    ('frame_inds', 'meta_keys'),
    ('gt_boxes', 'boxes.json'),
    ('box_geometry', 'RecordBoxGeometry'),
])
def test_metric_names_the_missing_key_and_the_fix(missing, fix):
    with pytest.raises(KeyError, match=fix):
        AttentionMetric().process(None, [_sample(**{missing: None})])
