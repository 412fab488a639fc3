"""Test-time views checked (issue 14, item 4): a pipeline whose sampled
frames are not whole sequences of the head's ``num_segments`` frames is
refused before it runs, naming both numbers."""
import pytest
from mmaction.registry import MODELS
from mmengine.config import Config

from hman_mmaction.engine.runner import HMANRunner
from hman_mmaction.engine.view_check import check_sequence_views

HMAN = 'configs/hman_demo.py'


def demo(tmp_path, loader, **sampler):
    cfg = Config.fromfile(HMAN)
    for step in cfg[loader].dataset.pipeline:
        if step['type'] == 'SampleFrames':
            step.update(sampler)
    cfg.work_dir = str(tmp_path)
    return cfg


def test_testing_with_16_frames_for_an_8_frame_head_is_refused(tmp_path):
    runner = HMANRunner.from_cfg(
        demo(tmp_path, 'test_dataloader', num_clips=16))
    with pytest.raises(ValueError) as info:
        runner.test()  # refused before any data is read
    message = str(info.value)
    assert 'test_dataloader' in message
    assert '16 frames' in message and 'num_segments=8' in message


def test_validation_during_training_is_checked_too(tmp_path):
    runner = HMANRunner.from_cfg(demo(tmp_path, 'val_dataloader', num_clips=4))
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
