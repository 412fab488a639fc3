"""BoundaryMetric: change steps, the +-1 matching (each change and each
boundary used once), per-layer P / R / F1 / rate and the rate-matched
random baseline."""
import itertools

import numpy as np
import pytest
import torch

from hman_mmaction.evaluation.boundary_metric import (BoundaryMetric,
                                                      boundary_scores,
                                                      change_steps,
                                                      match_count)

INDS = [0, 4, 8, 12, 16, 20, 24, 28]  # 8 steps of a 32-frame video


def test_change_lies_at_the_first_step_that_sees_the_new_motion():
    up_left = [[0, 10, 'up'], [10, 32, 'left']]
    assert change_steps(INDS, up_left) == [3]  # frame 12 is the first >= 10
    exact = [[0, 8, 'up'], [8, 32, 'left']]
    assert change_steps(INDS, exact) == [2]  # frame 8 shows 'left'
    # three motions, the middle one between two samples: one change
    skipped = [[0, 9, 'up'], [9, 11, 'left'], [11, 32, 'down']]
    assert change_steps(INDS, skipped) == [3]
    # not visible: before the first sampled frame, after the last one
    assert change_steps([2, 6, 10], [[0, 1, 'up'], [1, 12, 'left']]) == []
    assert change_steps(INDS, [[0, 30, 'up'], [30, 32, 'left']]) == []


def _maximum_matching(boundaries, changes, tolerance):
    """Brute force: the largest set of disjoint (boundary, change) pairs
    within the window."""
    steps = list(np.flatnonzero(boundaries))
    slots = steps + [None] * len(changes)  # None: the change stays unmatched
    best = 0
    for perm in itertools.permutations(slots, len(changes)):
        best = max(
            best,
            sum(
                b is not None and abs(b - c) <= tolerance
                for b, c in zip(perm, changes)))
    return best


def test_matching_window_is_plus_minus_one_step_and_used_once():
    z = np.zeros(8)
    for step, hit in [(2, 1), (3, 1), (4, 1), (1, 0), (5, 0)]:
        z[:] = 0
        z[step] = 1
        assert match_count(z, [3]) == hit, step
    # three boundaries around one change: one hit, two false positives
    assert match_count(np.array([0, 0, 1, 1, 1, 0, 0, 0]), [3]) == 1
    # one boundary between two changes: matches only one of them
    assert match_count(np.array([0, 0, 0, 0, 1, 0, 0, 0]), [3, 5]) == 1
    # greedy in time order is a maximum matching: change 3 must take
    # step 2, not 4, so that change 5 can have 4... or 5 and 6
    assert match_count(np.array([0, 0, 1, 0, 1, 0, 0, 0]), [3, 5]) == 2


def test_greedy_matching_equals_brute_force_maximum_matching():
    rng = np.random.default_rng(0)
    for _ in range(300):
        z = rng.random(8) < 0.4
        changes = sorted(
            rng.choice(8, size=rng.integers(0, 4), replace=False).tolist())
        for tolerance in (0, 1, 2):
            assert match_count(z, changes, tolerance) == _maximum_matching(
                z, changes, tolerance), (z, changes, tolerance)


def test_scores_of_hand_made_sequences():
    segments = [[0, 10, 'up'], [10, 20, 'left'], [20, 32, 'down']]
    # changes at steps 3 (frame 12) and 5 (frame 20)
    assert change_steps(INDS, segments) == [3, 5]
    z = np.zeros((3, 8))
    z[0, [3, 4, 6]] = 1  # layer 1: 3 and 4 hit (each change once), 6 not
    z[1, [0, 7]] = 1  # layer 2: two misses
    # layer 3 never fires (the top layer has no detector)
    scores = boundary_scores([z, z], [INDS, INDS], [segments, segments],
                             random_draws=10)
    assert scores['views'] == 2 and scores['change_rate'] == 4 / 16
    assert scores['l1_precision'] == pytest.approx(2 / 3)
    assert scores['l1_recall'] == pytest.approx(1.0)
    assert scores['l1_f1'] == pytest.approx(2 * 4 / (6 + 4))
    assert scores['l1_rate'] == pytest.approx(6 / 16)
    assert scores['l2_precision'] == scores['l2_recall'] == 0
    assert scores['l2_f1'] == 0 and scores['l2_rate'] == 4 / 16
    for key in ('precision', 'recall', 'f1', 'rate', 'random_f1'):
        assert scores[f'l3_{key}'] == 0, key


def test_random_baseline_is_rate_matched_and_deterministic():
    segments = [[0, 16, 'up'], [16, 32, 'left']]  # change at step 4
    z = np.zeros((2, 8))
    z[0, 0] = 1  # one boundary per view; a random one hits with P = 3/8
    z[1] = 1  # fires at every step: the random detector is the same
    args = ([z], [INDS], [segments])
    scores = boundary_scores(*args, random_draws=20000)
    for key in ('precision', 'recall', 'f1'):
        assert scores[f'l1_random_{key}'] == pytest.approx(3 / 8, abs=0.01)
        assert scores[f'l2_random_{key}'] == scores[f'l2_{key}']
    assert scores['l1_f1'] == 0
    assert boundary_scores(
        *args, random_draws=50) == boundary_scores(
            *args, random_draws=50)


def test_every_view_is_scored_with_its_own_frames():
    # twice_sample: view 1 samples frames 2, 6, ...; the change at frame 13
    # lies at step 3 in view 0 (frame 16) and at step 3 in view 1 (14)
    inds = INDS + [i + 2 for i in INDS]
    segments = [[0, 13, 'up'], [13, 32, 'left']]
    z = torch.zeros(2, 1, 8)
    z[0, 0, 3] = 1
    z[1, 0, 0] = 1
    scores = boundary_scores([z], [inds], [segments], random_draws=1)
    assert scores['views'] == 2 and scores['l1_f1'] == pytest.approx(0.5)
    first = boundary_scores([z], [inds], [segments],
                            random_draws=1,
                            views='first')
    assert first['views'] == 1 and first['l1_f1'] == 1.0


def _sample(**fields):
    base = dict(
        boundaries=torch.tensor([[0., 0., 0., 1., 0., 0., 0., 0.]]),
        frame_inds=np.array(INDS),
        gt_segments=[[0, 10, 'up'], [10, 32, 'left']],
        pred_score=torch.ones(12))
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_metric_reports_prefixed_keys_per_layer():
    metric = BoundaryMetric(random_draws=5)
    metric.process(None, [_sample(), _sample()])
    scores = metric.compute_metrics(metric.results)
    assert scores['l1_f1'] == 1.0 and scores['l1_rate'] == 1 / 8
    assert metric.default_prefix == 'boundary'


@pytest.mark.parametrize('missing, fix', [
    ('boundaries', 'return_extras=True'),
    ('frame_inds', 'meta_keys'),
    ('gt_segments', 'segments.json'),
])
def test_metric_names_the_missing_key_and_the_fix(missing, fix):
    with pytest.raises(KeyError, match=fix):
        BoundaryMetric().process(None, [_sample(**{missing: None})])


def test_exact_scores_count_only_the_step_the_timing_needs():
    up_left = [[0, 10, 'up'], [10, 32, 'left']]  # change at step 3
    early = np.zeros((1, 8))
    early[0, 2] = 1  # the last step of the old motion
    on = np.zeros((1, 8))
    on[0, 3] = 1  # the first step of the new one
    for z, post_exact, pre_exact in ((early, 1.0, 0.0), (on, 0.0, 1.0)):
        post = boundary_scores([z], [INDS], [up_left], offset=-1)
        pre = boundary_scores([z], [INDS], [up_left], offset=0)
        # the +-1 window cannot tell the two apart; the exact F1 can
        assert post['l1_f1'] == pre['l1_f1'] == 1.0
        assert post['l1_exact_f1'] == post_exact
        assert pre['l1_exact_f1'] == pre_exact


def test_timing_prior_fires_where_changes_are_most_frequent_without_looking():
    """Every view changes at step 3 or 5 (3 twice as often): the prior
    fires at step 3 in every view and scores 2 of 3 views; a detector that
    sees each view's change scores all of them."""
    segments = [[[0, 10, 'up'], [10, 32, 'left']]] * 2 + [[[0, 18, 'up'],
                                                           [18, 32, 'left']]]
    seeing = []
    for segs in segments:
        z = np.zeros((1, 8))
        z[0, change_steps(INDS, segs)[0]] = 1
        seeing.append(z)
    scores = boundary_scores(seeing, [INDS] * 3, segments, offset=0)
    assert scores['l1_exact_f1'] == 1.0
    assert scores['l1_prior_exact_f1'] == pytest.approx(2 / 3)
    assert scores['l1_prior_f1'] == pytest.approx(2 / 3)


def test_metric_takes_the_offset_the_predictions_carry():
    up_left = [[0, 10, 'up'], [10, 32, 'left']]
    z = torch.zeros(1, 8)
    z[0, 3] = 1
    metric = BoundaryMetric()
    metric.process(None, [
        dict(
            boundaries=z,
            frame_inds=np.array(INDS),
            gt_segments=up_left,
            boundary_offset=0)
    ])
    assert metric.compute_metrics(metric.results)['l1_exact_f1'] == 1.0
    assert BoundaryMetric(
        offset=-1).compute_metrics(metric.results)['l1_exact_f1'] == 0.0
