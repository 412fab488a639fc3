"""Checkpoints written before the head's losses moved into one dict (and the
next-step predictor out of its loss) load whole: the head renames their
keys on load, and the run checks compare with the same names."""
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner.checkpoint import load_state_dict

from hman_mmaction.engine.checkpoint_match import checkpoint_mismatch
from hman_mmaction.models.checkpoint_keys import upgrade_head_keys

C, T, HW = 8, 4, 2
OPTIONS = dict(
    attention=dict(
        type='GumbelHardAttention',
        hidden_channels=4,
        estimator='score_function'),
    loss_score_function=dict(type='AttentionScoreFunctionLoss'),
    loss_boundary=dict(type='BoundaryRateLoss', target_rate=0.25),
    loss_segment=dict(type='BoundarySupervisionLoss', targets='change_peaks'),
    loss_aux=dict(type='CrossEntropyLoss'),
    predictor=dict(type='NextStepPredictor', target='frame'),
    loss_predict=dict(type='NextStepPredictionLoss'))


def build_head(seed):
    torch.manual_seed(seed)
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=3,
            in_channels=C,
            num_segments=T,
            rnn=dict(type='HMLSTM', hidden_size=6, num_layers=2),
            **OPTIONS))
    head.init_weights()
    return head


def old_names(state_dict, prefix=''):
    """The keys an earlier version of the head wrote (one attribute per
    loss, the predictor inside its loss)."""
    old = {}
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            old[key] = value
            continue
        rest = key[len(prefix):]
        if rest.startswith('predictor.fc.'):
            rest = 'loss_predict.predictor.' + rest[len('predictor.fc.'):]
        elif rest.startswith('losses.loss_aux.loss.'):
            rest = 'loss_aux.' + rest[len('losses.loss_aux.loss.'):]
        elif rest.startswith('losses.'):
            rest = rest[len('losses.'):]
        old[prefix + rest] = value
    return old


def test_an_old_checkpoint_loads_whole_into_the_head():
    saved = build_head(0)
    with torch.no_grad():
        saved.losses['loss_boundary'].target_rate.fill_(0.125)
        saved.losses['loss_score_function'].fc_baseline.bias.fill_(0.5)
    old = old_names(saved.state_dict())
    assert 'loss_predict.predictor.weight' in old
    assert 'loss_boundary.target_rate' in old
    assert 'loss_score_function.fc_baseline.bias' in old
    assert 'loss_segment.peaks.threshold' in old
    fresh = build_head(1)
    result = fresh.load_state_dict(old, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in saved.state_dict().items():
        torch.testing.assert_close(fresh.state_dict()[key], value, msg=key)
    assert fresh._checkpoint_unfilled is None  # the guard saw every key
    # mmengine's loader (strict=False, its own recursion) does the same
    again = build_head(2)
    load_state_dict(again, old, strict=True)
    torch.testing.assert_close(again.predictor.fc.weight,
                               saved.predictor.fc.weight)


def test_new_keys_pass_unchanged_and_other_prefixes_are_left_alone():
    state = build_head(0).state_dict()
    renamed = dict(state)
    upgrade_head_keys(renamed, '')
    assert list(renamed) == list(state)
    other = {'backbone.loss_boundary.x': 1, 'cls_head.loss_boundary.y': 2}
    upgrade_head_keys(other, 'cls_head.')
    assert other == {
        'backbone.loss_boundary.x': 1,
        'cls_head.losses.loss_boundary.y': 2
    }


def test_the_run_checks_compare_an_old_checkpoint_by_the_new_names():
    cfg = Config.fromfile('configs/demo/ablations/hman-predict_demo.py')
    model = MODELS.build(cfg.model)
    old = old_names(model.state_dict(), 'cls_head.')
    assert 'cls_head.loss_predict.predictor.weight' in old
    mismatch = checkpoint_mismatch(model, dict(state_dict=old))
    assert not mismatch and not mismatch.unexpected
