"""HMANHead: gradients, view handling, predict extras, and learning order."""
from types import SimpleNamespace

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

NUM_CLASSES, C, T, HW = 5, 16, 4, 3

SOFT = dict(type='SoftAttention')
HARD = dict(
    type='GumbelHardAttention', temperature=dict(type='AdaptiveTemperature'))
GUMBEL_RNN = dict(
    type='HMLSTM',
    hidden_size=8,
    num_layers=2,
    boundary=dict(
        type='GumbelBoundary', temperature=dict(type='AdaptiveTemperature')))


def build_head(attention=SOFT, rnn=GUMBEL_RNN, **kwargs):
    cfg = dict(
        type='HMANHead',
        num_classes=NUM_CLASSES,
        in_channels=C,
        num_segments=T,
        rnn=rnn,
        attention=attention,
        **kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def rate_loss(weight, rate):
    return dict(type='BoundaryRateLoss', loss_weight=weight, target_rate=rate)


def samples(labels):
    return [ActionDataSample().set_gt_label(label) for label in labels]


@pytest.mark.parametrize('attention', [SOFT, HARD], ids=['soft', 'hard'])
def test_every_parameter_gets_a_finite_nonzero_gradient(attention):
    head = build_head(
        attention,
        loss_attention=dict(type='AttentionCoverageLoss', loss_weight=0.5),
        dropout_ratio=0.0)
    head.train()
    feats = torch.randn(3 * T, C, HW, HW)
    losses = head.loss(feats, samples([0, 1, 2]))
    assert {'loss_cls', 'top1_acc', 'loss_attention'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for name, param in head.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_loss_logs_diagnostics_without_summing_them():
    head = build_head(HARD)
    losses = head.loss(torch.randn(2 * T, C, HW, HW), samples([0, 1]))
    assert {'att_entropy', 'tau_att', 'bnd_rate_l1',
            'tau_bnd_l1'} <= set(losses)
    # the top layer has no detector: nothing to log for it
    assert not {'bnd_rate_l2', 'tau_bnd_l2'} & set(losses)
    assert not any(
        'loss' in key
        for key in ('att_entropy', 'tau_att', 'bnd_rate_l1', 'tau_bnd_l1'))
    assert 'loss_attention' not in losses  # loss_attention defaults to None


def test_attention_penalty_is_sharma_doubly_stochastic_term():
    head = build_head(
        loss_attention=dict(type='AttentionCoverageLoss', loss_weight=2.0))
    alpha = torch.softmax(torch.randn(3, T, HW, HW).flatten(2), -1)
    coverage = alpha.sum(1)
    expected = 2.0 * ((1 - coverage)**2).sum(1).mean()
    outputs = SimpleNamespace(attention=alpha.view(3, T, HW, HW))
    assert torch.allclose(head.losses['loss_attention'](outputs, None),
                          expected)


def test_one_score_row_per_view_and_average_clips_for_one_view():
    head = build_head(average_clips='prob').eval()
    feats = torch.randn(2 * T, C, HW, HW)
    assert head(feats).shape == (2, NUM_CLASSES)
    predictions = head.predict(feats, samples([0, 1]))
    expected = head.run(feats).cls_scores.softmax(-1)
    for prediction, row in zip(predictions, expected):
        assert torch.allclose(prediction.pred_score, row, atol=1e-6)


def test_two_clips_three_crops_are_averaged_per_sample():
    head = build_head(HARD, average_clips='prob').eval()
    views = 2 * 3
    feats = torch.randn(2 * views * T, C, HW, HW)
    scores = head.run(feats).cls_scores
    assert scores.shape == (2 * views, NUM_CLASSES)
    predictions = head.predict(feats, samples([0, 1]))
    expected = scores.view(2, views, -1).softmax(-1).mean(1)
    for prediction, row in zip(predictions, expected):
        assert torch.allclose(prediction.pred_score, row, atol=1e-6)
        assert prediction.pred_score.sum().item() == pytest.approx(1.0)


def test_each_view_is_its_own_sequence():
    head = build_head().eval()
    first = torch.randn(T, C, HW, HW)
    second = torch.randn(T, C, HW, HW)
    together = head(torch.cat([first, second]))
    assert torch.allclose(together[0], head(first)[0], atol=1e-6)
    assert torch.allclose(together[1], head(second)[0], atol=1e-6)


def test_predict_attaches_extras_with_the_stated_shapes():
    head = build_head(HARD, test_cfg=dict(return_extras=True)).eval()
    predictions = head.predict(torch.randn(2 * T, C, HW, HW), samples([0, 1]))
    for prediction in predictions:
        assert prediction.attention_map.shape == (T, HW, HW)
        assert torch.allclose(
            prediction.attention_map.sum((1, 2)), torch.ones(T))
        assert prediction.boundaries.shape == (2, T)
        assert prediction.tau_attention.shape == (T, )
        assert prediction.tau_boundary.shape == (2, T)
        assert prediction.step_scores.shape == (T, NUM_CLASSES)


def test_predict_keeps_a_view_axis_for_multi_view_extras():
    head = build_head(test_cfg=dict(return_extras=True)).eval()
    predictions = head.predict(
        torch.randn(2 * 3 * T, C, HW, HW), samples([0, 1]))
    assert predictions[0].attention_map.shape == (3, T, HW, HW)
    assert predictions[0].boundaries.shape == (3, 2, T)
    assert 'tau_attention' not in predictions[0]  # soft attention has none


def test_predict_without_extras_attaches_none():
    head = build_head().eval()
    prediction = head.predict(torch.randn(T, C, HW, HW), samples([0]))[0]
    assert 'attention_map' not in prediction


def test_frames_not_a_multiple_of_num_segments_is_a_clear_error():
    head = build_head()
    with pytest.raises(ValueError, match='num_segments=4'):
        head(torch.randn(T + 1, C, HW, HW))


@pytest.mark.parametrize('option, value', [('temporal_pool', 'max'),
                                           ('attention_query', 'middle'),
                                           ('init_state', 'random')])
def test_invalid_choices_name_the_option(option, value):
    with pytest.raises(ValueError, match=option):
        build_head(**{option: value})


@pytest.mark.parametrize('pool', ['mean', 'last'])
@pytest.mark.parametrize('query', ['all', 'top'])
def test_config_variants_build_and_run(pool, query):
    head = build_head(
        temporal_pool=pool,
        attention_query=query,
        init_state='zeros',
        feat_channels=12)
    assert head(torch.randn(2 * T, C, HW, HW)).shape == (2, NUM_CLASSES)


def test_boundary_penalty_pulls_each_layer_towards_its_target_rate():
    head = build_head(
        loss_boundary=rate_loss(3.0, [0.5, 0.25]),
        rnn=dict(
            type='HMLSTM', hidden_size=6, num_layers=2, top_boundary=True))
    z = torch.zeros(2, 2, T)
    z[:, 0, :2] = 1  # layer 1 fires at half the steps, layer 2 never
    expected = 3.0 * ((0.5 - 0.5)**2 + (0.0 - 0.25)**2)
    outputs = SimpleNamespace(boundaries=z, learned_layers=(0, 1))
    assert head.losses['loss_boundary'](outputs, None).item() == \
        pytest.approx(expected)

    losses = head.loss(torch.randn(2 * T, C, HW, HW), samples([0, 1]))
    assert 'loss_boundary' in losses
    losses['loss_boundary'].backward()  # the gradient reaches the detectors
    grads = [
        p.grad for n, p in head.rnn.named_parameters() if n.startswith('cells')
    ]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_boundary_target_rate_must_fit_the_layers():
    with pytest.raises(ValueError, match='3 rates for 1 boundary detector'):
        build_head(loss_boundary=rate_loss(1.0, [0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match='top_boundary'):
        build_head(loss_boundary=rate_loss(1.0, [0.5, 0.5]))
    feats = torch.randn(2 * T, C, HW, HW)
    # on by default (the detectors collapse without it), off with None and
    # for NoBoundary (nothing learned to keep alive)
    assert 'loss_boundary' in build_head().loss(feats, samples([0, 1]))
    assert 'loss_boundary' not in build_head(
        loss_boundary=None).loss(feats, samples([0, 1]))
    no_boundary = dict(
        type='HMLSTM',
        hidden_size=6,
        num_layers=2,
        boundary=dict(type='NoBoundary'))
    assert 'loss_boundary' not in build_head(
        rnn=no_boundary).loss(feats, samples([0, 1]))


def test_aux_loss_is_tsn_consensus_on_frame_features_and_training_only():
    head = build_head(loss_aux=dict(type='CrossEntropyLoss', loss_weight=0.5))
    feats = torch.randn(2 * T, C, HW, HW, requires_grad=True)
    losses = head.loss(feats, samples([0, 1]))
    frames = feats.detach().reshape(2, T, C, -1).mean(-1)  # [V, T, C]
    scores = head.fc_aux(frames).mean(1)
    expected = 0.5 * torch.nn.functional.cross_entropy(scores,
                                                       torch.tensor([0, 1]))
    torch.testing.assert_close(losses['loss_aux'], expected)
    losses['loss_aux'].backward()
    assert feats.grad.abs().sum() > 0  # the backbone gets TSN's gradient
    # predictions do not use the auxiliary classifier
    head.eval()
    before = head(feats.detach())
    torch.nn.init.normal_(head.fc_aux.weight, std=10.0)
    torch.testing.assert_close(head(feats.detach()), before)


def test_glimpse_residual_adds_a_linear_path_to_every_step():
    head = build_head(glimpse_residual=True, dropout_ratio=0.0)
    head.eval()
    feats = torch.randn(2 * T, C, HW, HW)
    outputs = head.run(feats)
    expected = head.fc_glimpse(outputs.glimpses).detach()
    torch.nn.init.zeros_(head.fc_glimpse.weight)
    torch.nn.init.zeros_(head.fc_glimpse.bias)
    without = head.run(feats)  # the recurrent path alone
    torch.testing.assert_close(
        (outputs.step_scores - without.step_scores).detach(), expected)
    assert 'fc_glimpse' not in dict(build_head().named_children())


@pytest.mark.parametrize(
    'logit, sign', [(-2.0, -1), (3.0, 1)],
    ids=['collapsing-to-never', 'firing-too-often'])
def test_rate_penalty_pushes_a_collapsing_detector_towards_its_target(
        logit, sign):
    """Anti-collapse: with layer 1's boundary logit biased towards "never"
    (rate below the 0.25 target) the penalty's gradient raises the logit;
    biased towards "always" it lowers it."""
    torch.manual_seed(0)
    head = build_head(loss_boundary=rate_loss(2.0, 0.25))
    H = head.rnn.hidden_size
    cell = head.rnn.cells[0]
    with torch.no_grad():
        cell.weight[4 * H].zero_()  # the logit is the bias alone
        cell.bias[4 * H] = logit
    losses = head.loss(torch.randn(8 * T, C, HW, HW), samples([0, 1] * 4))
    rate = losses['bnd_rate_l1'].item()
    assert (rate < 0.25) if sign < 0 else (rate > 0.25)
    losses['loss_boundary'].backward()
    grad = cell.bias.grad[4 * H].item()
    assert grad * sign > 0  # gradient descent moves the rate to the target
