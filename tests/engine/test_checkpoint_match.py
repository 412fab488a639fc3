"""No accuracy from the wrong checkpoint (issue 14, item 3): testing and
``init_recognizer`` refuse a checkpoint that does not fill the model (a TSN
checkpoint for the HM-AN config, or the reverse), naming the keys;
``load_from`` for training keeps the backbone transfer and logs a WARNING
naming what was not loaded."""

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from hman_mmaction.datasets.synthetic_actions import config_overrides
from hman_mmaction.engine.checkpoint_match import CheckpointMismatchError
from tests.helpers import call_tool, data_overrides, make_tiny_dataset

HMAN = 'configs/hman_demo.py'
TSN = 'configs/demo/tsn_demo.py'


@pytest.fixture(scope='module')
def tiny_dataset(tmp_path_factory):
    return make_tiny_dataset(
        tmp_path_factory.mktemp('synthetic_actions'), train=2, val=2, test=2)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """``{config: path}`` of a checkpoint of each model (fresh weights)."""
    folder = tmp_path_factory.mktemp('checkpoints')
    paths = {}
    for config in (HMAN, TSN):
        model = MODELS.build(Config.fromfile(config).model)
        path = folder / (config.split('/')[-1][:-3] + '.pth')
        torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
        paths[config] = str(path)
    return paths


@pytest.mark.parametrize('config, other', [(HMAN, TSN), (TSN, HMAN)])
def test_init_recognizer_refuses_the_other_models_checkpoint(
        checkpoints, config, other):
    from mmaction.apis import init_recognizer
    with pytest.raises(CheckpointMismatchError) as info:
        init_recognizer(config, checkpoints[other], device='cpu')
    message = str(info.value)
    assert checkpoints[other] in message
    assert 'cls_head' in message
    assert 'missing keys' in message or 'shape mismatches' in message
    model = init_recognizer(config, checkpoints[config], device='cpu')
    assert model.cls_head is not None  # its own checkpoint loads


def test_test_tool_refuses_a_tsn_checkpoint_for_the_hman_config(
        checkpoints, tiny_dataset, tmp_path):
    result = call_tool(
        'test',
        [HMAN, checkpoints[TSN], '--work-dir',
         str(tmp_path), '--cfg-options'] +
        data_overrides(tiny_dataset.root, workers=0))
    assert result.returncode != 0
    assert 'CheckpointMismatchError' in result.stdout
    assert 'cls_head.rnn' in result.stdout
    assert 'acc/top1' not in result.stdout


def test_load_from_for_training_warns_naming_what_was_not_loaded(
        checkpoints, tiny_dataset, tmp_path):
    from hman_mmaction.engine.runner import HMANRunner
    from tests.robustness.conftest import captured_log
    cfg = Config.fromfile(HMAN)
    cfg.merge_from_dict(
        dict(o.split('=', 1) for o in config_overrides(tiny_dataset.root)))
    cfg.work_dir = str(tmp_path)
    cfg.load_from = checkpoints[TSN]
    runner = HMANRunner.from_cfg(cfg)  # runner_type of the configs
    with captured_log() as log:
        runner.load_or_resume()  # what train() does first
    warning = '\n'.join(log)
    assert 'does not hold the weights' in warning
    assert 'cls_head.rnn' in warning and 'backbone' not in warning.split(
        'initialised:')[1].splitlines()[0]
    # the backbone was transferred
    tsn = torch.load(checkpoints[TSN], weights_only=True)['state_dict']
    key = 'backbone.conv1.conv.weight'
    assert torch.equal(runner.model.state_dict()[key], tsn[key])
