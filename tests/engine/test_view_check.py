"""Test-time views checked (issue 14, item 4): a pipeline whose sampled
frames are not whole sequences of the head's ``num_segments`` frames is
refused before it runs, naming both numbers (``RunChecksHook``, in the
configs' runtime, with mmengine's own runner: issue 34)."""
import pytest
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner

from hman_mmaction.datasets.synthetic_actions import config_overrides
from hman_mmaction.engine.view_check import check_sequence_views
from tests.helpers import make_tiny_dataset

HMAN = 'configs/hman_demo.py'


@pytest.fixture(scope='module')
def tiny_dataset(tmp_path_factory):
    return make_tiny_dataset(
        tmp_path_factory.mktemp('synthetic_actions'), train=2, val=2, test=2)


def demo(tmp_path, loader, root, **sampler):
    cfg = Config.fromfile(HMAN)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in config_overrides(root)))
    for step in cfg[loader].dataset.pipeline:
        if step['type'] == 'SampleFrames':
            step.update(sampler)
    cfg.work_dir = str(tmp_path)
    return cfg


def test_testing_with_16_frames_for_an_8_frame_head_is_refused(
        tmp_path, tiny_dataset):
    runner = Runner.from_cfg(
        demo(tmp_path, 'test_dataloader', tiny_dataset.root, num_clips=16))
    with pytest.raises(ValueError) as info:
        runner.test()  # refused before any clip is read
    message = str(info.value)
    assert 'test_dataloader' in message
    assert '16 frames' in message and 'num_segments=8' in message


def test_validation_during_training_is_checked_too(tmp_path, tiny_dataset):
    runner = Runner.from_cfg(
        demo(tmp_path, 'val_dataloader', tiny_dataset.root, num_clips=4))
    with pytest.raises(ValueError, match=r'val_dataloader.*4 frames'):
        runner.train()


@pytest.mark.parametrize(
    'sampler',
    [
        dict(num_clips=8),
        dict(num_clips=8, twice_sample=True),  # two whole views
        dict(num_clips=1, clip_len=8),  # one dense clip of 8 frames
    ])
def test_whole_sequences_pass(sampler):
    cfg = Config.fromfile(HMAN)
    model = MODELS.build(cfg.model)
    loader = cfg.test_dataloader
    for step in loader.dataset.pipeline:
        if step['type'] == 'SampleFrames':
            step.update(sampler)
    check_sequence_views(model, loader, 'test_dataloader')


def test_other_heads_are_not_checked():
    cfg = Config.fromfile('configs/demo/tsn_demo.py')
    model = MODELS.build(cfg.model)
    loader = cfg.test_dataloader
    loader.dataset.pipeline[1].update(num_clips=3)
    check_sequence_views(model, loader, 'test_dataloader')
