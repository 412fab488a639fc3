"""No accuracy from the wrong checkpoint (issues 14 and 34): the head refuses
to score with weights a load did not fill, whatever loaded them
(``init_recognizer``, mmengine's ``load_checkpoint``), naming both sizes
and the fix; testing with the run checks refuses before the weights are
loaded; ``load_from`` for training keeps the backbone transfer and the
head's first step names what was not loaded. A TSN model loads as it does
without the plugin."""

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from hman_mmaction.engine.checkpoint_match import CheckpointMismatchError
from hman_mmaction.models.checkpoint_guard import TestTimeStepsError
from tests.helpers import call_tool, data_overrides, make_tiny_dataset

HMAN = 'configs/hman_demo.py'
TSN = 'configs/demo/tsn_demo.py'


@pytest.fixture(scope='module')
def tiny_dataset(tmp_path_factory):
    return make_tiny_dataset(
        tmp_path_factory.mktemp('synthetic_actions'), train=2, val=2, test=2)


def save(model, path):
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """``{name: path}``: fresh weights of the HM-AN and TSN demo models, and
    of the HM-AN model with rnn.hidden_size=16 and with 16 steps."""
    folder = tmp_path_factory.mktemp('checkpoints')
    paths = {}
    for name, config in (('hman', HMAN), ('tsn', TSN)):
        paths[name] = save(
            MODELS.build(Config.fromfile(config).model),
            folder / f'{name}.pth')
    cfg = Config.fromfile(HMAN)
    cfg.model.cls_head.rnn.hidden_size = 16
    paths['hidden16'] = save(MODELS.build(cfg.model), folder / 'h16.pth')
    cfg = Config.fromfile(HMAN)
    cfg.model.cls_head.num_segments = 16
    paths['steps16'] = save(MODELS.build(cfg.model), folder / 's16.pth')
    return paths


def predict(model, frames=8):
    model.eval()
    inputs = torch.rand(1, frames, 3, 64, 64) * 255
    data = dict(inputs=[inputs[0]], data_samples=[ActionDataSample()])
    with torch.no_grad():
        return model.test_step(data)


def test_init_recognizer_loads_as_upstream_and_the_head_refuses_to_score(
        checkpoints):
    from mmaction.apis import init_recognizer
    model = init_recognizer(HMAN, checkpoints['tsn'], device='cpu')
    with pytest.raises(CheckpointMismatchError) as info:
        predict(model)
    message = str(info.value)
    assert 'cls_head.rnn' in message and 'random weights' in message
    assert 'config the checkpoint was trained with' in message
    predict(init_recognizer(HMAN, checkpoints['hman'], device='cpu'))


def test_a_tsn_model_with_the_hman_checkpoint_behaves_as_upstream(checkpoints):
    from mmaction.apis import init_recognizer
    model = init_recognizer(TSN, checkpoints['hman'], device='cpu')
    predict(model)  # mmaction2's behaviour: a warning in the log, no error


def test_load_checkpoint_of_another_hidden_size_names_both_sizes(checkpoints):
    model = MODELS.build(Config.fromfile(HMAN).model)
    load_checkpoint(model, checkpoints['hidden16'], map_location='cpu')
    with pytest.raises(CheckpointMismatchError) as info:
        predict(model)
    message = str(info.value)
    assert 'cls_head.rnn.hidden_size: checkpoint 16, this head 64' in message
    assert '--cfg-options model.cls_head.rnn.hidden_size=16' in message


def test_another_step_count_is_refused_unless_the_config_says_so(checkpoints):
    cfg = Config.fromfile(HMAN)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoints['steps16'], map_location='cpu')
    with pytest.raises(TestTimeStepsError) as info:
        predict(model)
    assert 'trained with num_segments=16' in str(info.value)
    assert 'accept_num_segments_change=True' in str(info.value)
    cfg.model.cls_head.test_cfg = dict(accept_num_segments_change=True)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoints['steps16'], map_location='cpu')
    predict(model)


def test_the_checkpoint_carries_what_the_head_was_trained_with():
    cfg = Config.fromfile(HMAN)
    head = MODELS.build(cfg.model).cls_head
    assert head.state_dict()['trained_with'].tolist() == [12, 128, 8, 64, 2]


def test_test_tool_refuses_a_tsn_checkpoint_for_the_hman_config(
        checkpoints, tiny_dataset, tmp_path):
    result = call_tool('test', [
        HMAN, checkpoints['tsn'], '--work-dir',
        str(tmp_path), '--cfg-options'
    ] + data_overrides(tiny_dataset.root, workers=0))
    assert result.returncode != 0
    assert 'CheckpointMismatchError' in result.stdout
    assert 'cls_head.rnn' in result.stdout
    assert 'acc/top1' not in result.stdout


def test_load_from_for_training_transfers_and_names_what_was_not_loaded(
        checkpoints, logged):
    model = MODELS.build(Config.fromfile(HMAN).model)
    load_checkpoint(model, checkpoints['tsn'], map_location='cpu')
    tsn = torch.load(checkpoints['tsn'], weights_only=True)['state_dict']
    key = 'backbone.conv1.conv.weight'
    assert torch.equal(model.state_dict()[key], tsn[key])  # transferred
    model.train()
    sample = ActionDataSample().set_gt_label(3)
    model.train_step(
        dict(inputs=[torch.rand(8, 3, 64, 64) * 255], data_samples=[sample]),
        _optim_wrapper(model))
    warning = '\n'.join(logged)
    assert 'does not fill it' in warning and 'transfer' in warning
    predict(model)  # trained: its own weights now


def _optim_wrapper(model):
    from mmengine.optim import OptimWrapper
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.0))


def test_a_checkpoint_of_an_auto_rate_run_loads_and_scores():
    """``target_rate='auto'`` starts with no rate; the trained run's
    checkpoint carries the one it used, and loading it is no mismatch."""
    cfg = Config.fromfile('configs/demo/ablations/hman-auto-rate_demo.py')
    trained = MODELS.build(cfg.model)
    trained.cls_head.losses['loss_boundary'].set_target_rate(0.2)
    fresh = MODELS.build(cfg.model)
    fresh.load_state_dict(trained.state_dict())
    assert fresh.cls_head.losses['loss_boundary'].target_rate.tolist(
    ) == pytest.approx([0.2])
    predict(fresh)  # would raise CheckpointMismatchError
