"""The head's losses as registry components: each built from a config dict,
switched off by None, called one way (on the head's outputs), logged under
its option's name, computing its documented equation."""
import math
from types import SimpleNamespace

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from hman_mmaction.models.segment_targets import change_targets

NUM_CLASSES, C, T, HW = 4, 8, 6, 2


def build_head(**kwargs):
    cfg = dict(
        type='HMANHead',
        num_classes=NUM_CLASSES,
        in_channels=C,
        num_segments=T,
        rnn=dict(type='HMLSTM', hidden_size=8, num_layers=2),
        attention=dict(type='SoftAttention', hidden_channels=4),
        dropout_ratio=0.0)
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def segment_samples(labels, segments, frame_inds):
    samples = []
    for label, segs, inds in zip(labels, segments, frame_inds):
        sample = ActionDataSample().set_gt_label(label)
        sample.set_metainfo(dict(gt_segments=segs, frame_inds=inds))
        samples.append(sample)
    return samples


# 12 frames sampled at 0, 2, ..., 10: a change at frame 5 is first seen at
# step 3 (frame 6), one at frame 9 at step 5 (frame 10)
FRAME_INDS = [list(range(0, 12, 2))] * 2
SEGMENTS = [[[0, 5, 'up'], [5, 12, 'down']],
            [[0, 5, 'up'], [5, 9, 'left'], [9, 12, 'up']]]


def test_old_float_options_name_their_loss_component():
    with pytest.raises(TypeError, match='loss_attention=dict'):
        build_head(att_reg_weight=1.0)
    with pytest.raises(
            TypeError,
            match="loss_aux=dict\\(type="
            "'CrossEntropyLoss', loss_weight=0.5\\)"):
        build_head(aux_loss_weight=0.5)
    with pytest.raises(TypeError, match='loss_boundary` = None'):
        build_head(bnd_reg_weight=0)
    with pytest.raises(TypeError, match='must be a loss config'):
        build_head(loss_predict=1.0)


def test_predictor_options_of_the_predictive_loss_name_their_new_place():
    with pytest.raises(
            TypeError,
            match="target='frame', layer=2: the next-step predictor is a "
            "head component now. Set `cls_head.predictor=dict\\(type="
            "'NextStepPredictor', target='frame', layer=2\\)`"):
        build_head(
            loss_predict=dict(
                type='NextStepPredictionLoss', target='frame', layer=2))


PREDICT = dict(
    predictor=dict(type='NextStepPredictor', target='frame'),
    loss_predict=dict(type='NextStepPredictionLoss'))


def test_every_loss_is_called_one_way_and_logged_under_its_option():
    """Each option's component sits in the head's one loss dict under the
    option's name, which is its key in the loss dict (the log)."""
    head = build_head(
        loss_attention=dict(type='AttentionCoverageLoss'),
        loss_entropy=dict(type='AttentionEntropyLoss'),
        loss_segment=dict(
            type='BoundarySupervisionLoss', targets='change_peaks'),
        loss_aux=dict(type='CrossEntropyLoss'),
        **PREDICT)
    slots = [
        'loss_attention', 'loss_boundary', 'loss_predict', 'loss_segment',
        'loss_aux', 'loss_entropy'
    ]
    assert set(head.losses) == set(slots)
    feats = torch.randn(2 * T, C, HW, HW)
    labels = torch.tensor([0, 1])
    torch.manual_seed(0)
    losses = head.loss_by_labels(feats, labels)
    assert [k for k in losses if k.startswith('loss')
            ] == ['loss_cls'] + [name for name in head.losses]
    torch.manual_seed(0)
    outputs = head.run(feats, for_loss=True)
    for name, loss in head.losses.items():
        torch.testing.assert_close(loss(outputs, labels), losses[name])


def test_every_loss_is_switched_off_by_none():
    head = build_head(loss_boundary=None)
    losses = head.loss(
        torch.randn(2 * T, C, HW, HW),
        [ActionDataSample().set_gt_label(0)] * 2)
    assert [k for k in losses if k.startswith('loss')] == ['loss_cls']


def test_weights_scale_their_losses_linearly():
    feats = torch.randn(2 * T, C, HW, HW)
    labels = torch.tensor([0, 1])
    values = []
    for weight in (1.0, 3.0):
        torch.manual_seed(0)
        head = build_head(
            predictor=PREDICT['predictor'],
            loss_predict=dict(
                type='NextStepPredictionLoss', loss_weight=weight),
            loss_attention=dict(
                type='AttentionCoverageLoss', loss_weight=weight))
        torch.manual_seed(1)
        losses = head.loss_by_labels(feats, labels)
        values.append((losses['loss_predict'], losses['loss_attention']))
    for low, high in zip(*values):
        torch.testing.assert_close(high, 3.0 * low)


@pytest.mark.parametrize('target', ['frame', 'glimpse'])
def test_next_step_loss_is_prediction_error_of_the_standardised_next_input(
        target):
    torch.manual_seed(0)
    head = build_head(
        predictor=dict(type='NextStepPredictor', target=target),
        loss_predict=dict(type='NextStepPredictionLoss'))
    feats = torch.randn(2 * T, C, HW, HW, requires_grad=True)
    outputs = head.run(feats)
    source = outputs.glimpses if target == 'glimpse' else outputs.frame_means
    y = source[:, 1:].detach()
    y = (y - y.mean(-1, keepdim=True)) / (
        y.std(-1, keepdim=True, unbiased=False) + 1e-5)
    prediction = head.predictor.fc(outputs.hidden[:, :-1, 0])
    # the predictor runs in the forward pass; the loss reads its error
    torch.testing.assert_close(outputs.prediction_error, y - prediction)
    expected = (prediction - y).pow(2).mean()
    loss = head.losses['loss_predict'](outputs, None)
    torch.testing.assert_close(loss, expected)
    loss.backward()
    # the gradient reaches the recurrent cells but not the target
    assert head.rnn.cells[0].weight.grad.abs().sum() > 0


def test_segment_targets_mark_the_step_before_each_change():
    samples = segment_samples([0, 1], SEGMENTS, FRAME_INDS)
    targets = change_targets(samples, views=1, steps=T, offset=-1)
    assert targets.tolist() == [[0, 0, 1, 0, 0, 0], [0, 0, 1, 0, 1, 0]]
    # two views per sample (e.g. twice_sample): each uses its own block
    two_views = segment_samples(
        [0], SEGMENTS[:1], [list(range(0, 12, 2)) + list(range(1, 12, 2))])
    targets = change_targets(two_views, views=2, steps=T, offset=0)
    assert targets.tolist() == [[0, 0, 0, 1, 0, 0], [0, 0, 1, 0, 0, 0]]


def test_segment_targets_refuse_samples_without_segments():
    sample = ActionDataSample()
    sample.set_metainfo(dict(frame_inds=[0, 1]))
    with pytest.raises(KeyError, match='gt_segments.*meta_keys'):
        change_targets([sample], views=1, steps=2, offset=-1)


def test_segment_supervision_is_bce_on_layer_one_logits():
    head = build_head(
        loss_segment=dict(type='BoundarySupervisionLoss', loss_weight=2.0))
    samples = segment_samples([0, 1], SEGMENTS, FRAME_INDS)
    feats = torch.randn(2 * T, C, HW, HW)
    torch.manual_seed(0)
    losses = head.loss(feats, samples)
    torch.manual_seed(0)
    outputs = head.run(feats, samples)
    targets = change_targets(samples, 1, T, offset=-1)
    expected = 2.0 * torch.nn.functional.binary_cross_entropy_with_logits(
        outputs.boundary_logits[:, 0], targets)
    torch.testing.assert_close(losses['loss_segment'], expected)
    losses['loss_segment'].backward()
    assert head.rnn.cells[0].weight.grad[4 * 8].abs().sum() > 0
    with pytest.raises(KeyError, match='gt_segments'):
        head.loss(feats, [ActionDataSample().set_gt_label(0)] * 2)


def test_auto_target_rate_refuses_to_train_before_it_is_set():
    head = build_head(
        loss_boundary=dict(type='BoundaryRateLoss', target_rate='auto'))
    feats = torch.randn(2 * T, C, HW, HW)
    with pytest.raises(RuntimeError, match='BoundaryRateFromDataHook'):
        head.loss_by_labels(feats, torch.tensor([0, 1]))
    head.losses['loss_boundary'].set_target_rate(0.125)
    assert 'loss_boundary' in head.loss_by_labels(feats, torch.tensor([0, 1]))
    # the rate travels with the checkpoint into a fresh 'auto' head
    fresh = build_head(
        loss_boundary=dict(type='BoundaryRateLoss', target_rate='auto'))
    fresh.load_state_dict(head.state_dict())
    assert fresh.losses['loss_boundary'].target_rate.tolist() == [0.125]


def test_bce_rate_form_is_zero_at_the_target_and_pulls_harder_near_zero():
    from hman_mmaction.models.losses import BoundaryRateLoss
    squared = BoundaryRateLoss(1.0, 0.125)
    bce = BoundaryRateLoss(1.0, 0.125, form='bce')
    at_target = torch.zeros(8, 1, 8)
    at_target[:, 0, 0] = 1  # rate 1/8
    outputs = SimpleNamespace(boundaries=at_target, learned_layers=(0, ))
    assert bce(outputs, None).item() == pytest.approx(0.0, abs=1e-6)
    pulls = []
    for loss in (squared, bce):
        rate = torch.tensor(0.01, requires_grad=True)
        z = rate.expand(4, 1, 8)
        loss(SimpleNamespace(boundaries=z, learned_layers=(0, )),
             None).backward()
        pulls.append(-rate.grad.item())
    assert pulls[0] > 0 and pulls[1] > 5 * pulls[0]
    with pytest.raises(ValueError, match='form'):
        BoundaryRateLoss(form='l1')


def test_entropy_loss_is_minus_the_weighted_attention_entropy():

    def on(probs):
        return SimpleNamespace(attention_probs=probs)

    loss = MODELS.build(dict(type='AttentionEntropyLoss', loss_weight=0.5))
    uniform = on(torch.full((2, 3, 2, 2), 0.25))
    torch.testing.assert_close(
        loss(uniform, None), torch.tensor(-0.5 * math.log(4)))
    one_hot = torch.zeros(2, 3, 4).scatter_(-1,
                                            torch.zeros(2, 3, 1).long(),
                                            1.0).view(2, 3, 2, 2)
    assert loss(on(one_hot), None).abs().item() < 1e-6
    minimize = MODELS.build(
        dict(type='AttentionEntropyLoss', loss_weight=0.5, mode='minimize'))
    torch.testing.assert_close(minimize(uniform, None), -loss(uniform, None))
    with pytest.raises(ValueError, match='maximize'):
        MODELS.build(dict(type='AttentionEntropyLoss', mode='max'))
    # in the head: loss_entropy is -w times the logged attention entropy
    head = build_head(
        loss_entropy=dict(type='AttentionEntropyLoss', loss_weight=0.5))
    losses = head.loss_by_labels(
        torch.randn(2 * T, C, HW, HW), torch.tensor([0, 1]))
    torch.testing.assert_close(losses['loss_entropy'],
                               -0.5 * losses['att_entropy'])
    losses['loss_entropy'].backward()  # the bonus reaches the attention scores
    assert head.attention.score.energy.weight.grad.abs().sum() > 0


def test_backbone_warmup_withholds_the_recurrent_gradient_but_not_aux():
    torch.manual_seed(0)
    head = build_head(
        loss_boundary=None,
        dropout_ratio=0.0,
        loss_aux=dict(type='CrossEntropyLoss', loss_weight=1.0),
        backbone_warmup=dict(type='LinearDecay', start=1.0, end_iter=10))
    feats = torch.randn(2 * T, C, HW, HW)
    labels = torch.tensor([0, 1])

    def feature_grads(iteration):
        head.backbone_warmup.step(iteration)
        x = feats.clone().requires_grad_()
        torch.manual_seed(1)  # the same boundary samples
        losses = head.loss_by_labels(x, labels)
        grads = {}
        for key in ('loss_cls', 'loss_aux'):
            grads[key], = torch.autograd.grad(
                losses[key], x, retain_graph=True)
        return losses, grads

    start, grads_start = feature_grads(0)  # beta = 1: aux alone
    half, grads_half = feature_grads(5)  # beta = 0.5
    end, grads_end = feature_grads(10)  # beta = 0: everything
    for losses in (half, end):  # the forward pass is unchanged
        torch.testing.assert_close(losses['loss_cls'], start['loss_cls'])
        torch.testing.assert_close(losses['loss_aux'], start['loss_aux'])
    assert grads_start['loss_cls'].abs().max() == 0
    assert grads_end['loss_cls'].abs().max() > 0
    torch.testing.assert_close(grads_half['loss_cls'],
                               0.5 * grads_end['loss_cls'])
    for grads in (grads_start, grads_half):
        torch.testing.assert_close(grads['loss_aux'], grads_end['loss_aux'])
