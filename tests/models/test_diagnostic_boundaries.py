"""Oracle and random boundaries, change features for the detector, and a
test-time decision that keeps the training rate."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from hman_mmaction.models.boundary import GumbelBoundary, RandomBoundary

C, T, HW = 8, 6, 2
FRAME_INDS = list(range(0, 12, 2))
SEGMENTS = [[[0, 5, 'up'], [5, 12, 'down']],
            [[0, 5, 'up'], [5, 9, 'left'], [9, 12, 'up']]]


def build_head(boundary, **kwargs):
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=3,
            in_channels=C,
            num_segments=T,
            rnn=dict(
                type='HMLSTM', hidden_size=8, num_layers=2, boundary=boundary),
            attention=dict(type='SoftAttention', hidden_channels=4),
            **kwargs))
    head.init_weights()
    return head


def samples(segments=SEGMENTS):
    out = []
    for segs in segments:
        s = ActionDataSample().set_gt_label(0)
        s.set_metainfo(dict(gt_segments=segs, frame_inds=FRAME_INDS))
        out.append(s)
    return out


@pytest.mark.parametrize('fused', [True, False], ids=['fast', 'reference'])
def test_oracle_fires_exactly_before_each_ground_truth_change(fused):
    head = build_head(dict(type='OracleBoundary'))
    head.fused_sequence = fused
    for mode in (head.train, head.eval):
        mode()
        z = head.run(torch.randn(2 * T, C, HW, HW), samples()).boundaries
        assert z[:, 0].tolist() == [[0, 0, 1, 0, 0, 0], [0, 0, 1, 0, 1, 0]]
    # the oracle is a diagnostic: the rate loss leaves it alone
    losses = head.train().loss(torch.randn(2 * T, C, HW, HW), samples())
    assert 'loss_boundary' not in losses


def test_oracle_refuses_clearly_without_ground_truth():
    head = build_head(dict(type='OracleBoundary'))
    with pytest.raises(RuntimeError, match='needs the ground-truth'):
        head(torch.randn(2 * T, C, HW, HW))
    plain = [ActionDataSample().set_gt_label(0)] * 2
    with pytest.raises(KeyError, match='gt_segments'):
        head.loss(torch.randn(2 * T, C, HW, HW), plain)


def test_random_boundary_matches_the_true_count_per_view_at_random_steps():
    torch.manual_seed(0)
    head = build_head(dict(type='RandomBoundary'))
    placements = set()
    for _ in range(30):
        z = head.run(torch.randn(2 * T, C, HW, HW), samples()).boundaries
        assert z[:, 0].sum(1).tolist() == [1, 2]
        placements.add(tuple(z[0, 0].tolist()))
    assert len(placements) > 3  # not always the same step


def test_random_boundary_with_a_rate_needs_no_ground_truth():
    torch.manual_seed(0)
    detector = RandomBoundary(rate=0.25)
    z = detector.schedule(torch.zeros(4000, T))
    assert abs(z.mean().item() - 0.25) < 0.02


PREDICTOR = dict(type='NextStepPredictor', target='frame')
PREDICT = dict(
    predictor=PREDICTOR, loss_predict=dict(type='NextStepPredictionLoss'))
ALL_CHANGES = ['frame_diff', 'glimpse_diff', 'map_diff', 'pred_error']


def change_head(kinds, **kwargs):
    if 'pred_error' in kinds:
        for key, value in PREDICT.items():
            kwargs.setdefault(key, value)
    return build_head(
        dict(type='GumbelBoundary'),
        change_features=kinds,
        feat_channels=6,
        **kwargs)


@pytest.mark.parametrize('kinds', [['frame_diff'], ['glimpse_diff'],
                                   ['map_diff'], ['pred_error'], ALL_CHANGES])
@pytest.mark.parametrize('fused', [True, False], ids=['fast', 'reference'])
def test_change_features_feed_layer_one_detector(kinds, fused):
    """The change projection gets a gradient, and a change in the frames
    moves layer 1's boundary logit through it (only through it: with its
    weights at 0 the logits are those of the head without the option)."""
    torch.manual_seed(0)
    head = change_head(kinds)
    head.fused_sequence = fused
    x = torch.randn(2 * T, C, HW, HW)
    out = head.run(x)
    out.boundary_logits.sum().backward()
    assert head.rnn.change_proj.weight.grad.abs().sum() > 0
    with torch.no_grad():
        head.rnn.change_proj.weight.zero_()
        head.rnn.change_proj.bias.zero_()
    plain = build_head(
        dict(type='GumbelBoundary'),
        feat_channels=6,
        **(PREDICT if head.predictor is not None else {}))
    plain.fused_sequence = fused
    state = {
        k: v
        for k, v in head.state_dict().items() if 'change_proj' not in k
    }
    plain.load_state_dict(state)
    head.eval(), plain.eval()
    torch.testing.assert_close(
        head.run(x).boundary_logits,
        plain.run(x).boundary_logits)


def test_fast_and_reference_paths_agree_with_change_features():
    torch.manual_seed(0)
    head = change_head(ALL_CHANGES).eval()
    x = torch.randn(2 * T, C, HW, HW)
    head.fused_sequence = True
    fast = head.run(x).boundary_logits
    head.fused_sequence = False
    torch.testing.assert_close(fast, head.run(x).boundary_logits)


@pytest.mark.parametrize('target', ['frame', 'glimpse'])
def test_prediction_error_is_what_the_predictive_loss_squares(target):
    """Layer 1's change input at step t is ``std(y_t) - P h_{t-1}``: with
    the change projection the identity on it, the squared input of steps
    1..T-1 averages to the predictive loss (weight 1); step 0 gets zeros."""
    torch.manual_seed(0)
    head = change_head(['pred_error'],
                       predictor=dict(PREDICTOR, target=target))
    D = 6
    seen = []
    step = head.rnn.step

    def record(x, state, *args, change=None, **kwargs):
        seen.append(change)
        return step(x, state, *args, change=change, **kwargs)

    head.rnn.step = record
    out = head.run(torch.randn(2 * T, C, HW, HW))
    changes = torch.stack(seen, dim=1)  # [V, T, D]
    assert changes.shape == (2, T, D)
    assert changes[:, 0].abs().sum() == 0
    loss = head.losses['loss_predict'](out, None)
    torch.testing.assert_close(changes[:, 1:].pow(2).mean(), loss)
    torch.testing.assert_close(changes[:, 1:], out.prediction_error)


def test_unknown_change_feature_is_refused():
    with pytest.raises(ValueError, match='change_features'):
        build_head(dict(type='GumbelBoundary'), change_features=['diff'])


def test_prediction_error_without_the_predictor_names_the_fix():
    with pytest.raises(ValueError, match="predictor=dict.*loss_predict=dict"):
        build_head(dict(type='GumbelBoundary'), change_features=['pred_error'])
    with pytest.raises(ValueError, match='layer=3 but the HM-LSTM has 2'):
        change_head(['pred_error'], predictor=dict(PREDICTOR, layer=3))
    with pytest.raises(ValueError, match='learns from loss_predict alone'):
        build_head(dict(type='GumbelBoundary'), predictor=PREDICTOR)
    with pytest.raises(ValueError, match="loss_predict reads the next-step"):
        build_head(
            dict(type='GumbelBoundary'), loss_predict=PREDICT['loss_predict'])


def test_calibrated_decision_keeps_the_training_rate_at_test_time():
    """An unconfident detector (logits around -1): sampling fires at
    mean sigmoid ~0.28, thresholding at 0 at ~0.02; the calibrated threshold
    gives the training rate within 0.02."""
    torch.manual_seed(0)
    calibrated = GumbelBoundary(
        8,
        temperature=dict(type='FixedTemperature', tau=1.0),
        eval_decision='calibrated')
    threshold = GumbelBoundary(
        8, temperature=dict(type='FixedTemperature', tau=1.0))
    state = torch.zeros(4096, 8)
    for _ in range(300):
        calibrated.calibrate(torch.randn(4096) * 0.5 - 1.0)
    logits = torch.randn(4096) * 0.5 - 1.0
    train_rate = calibrated.train()(logits, state)[0].mean().item()
    test_rate = calibrated.eval()(logits, state)[0].mean().item()
    naive_rate = threshold.eval()(logits, state)[0].mean().item()
    assert abs(train_rate - test_rate) < 0.02, (train_rate, test_rate)
    assert naive_rate < train_rate - 0.15


def test_head_calibrates_its_detectors_in_training_only():
    head = build_head(dict(type='GumbelBoundary', eval_decision='calibrated'))
    detector = head.rnn.boundaries[0]
    assert not detector.calibrated
    head.loss(torch.randn(2 * T, C, HW, HW), samples())
    assert detector.calibrated
    before = detector.threshold.clone()
    head.eval().predict(torch.randn(2 * T, C, HW, HW), samples())
    assert torch.equal(detector.threshold, before)
