"""A checkpoint knows what it was trained for (issue 21, item 2): testing,
validation and inference compare the config saved in the checkpoint
(``meta['cfg']``) with the running config and refuse what changes the
scores (or warn, for a deliberate change); ``--resume`` from a checkpoint
of another model names what differs; ``inference_hman`` checks the views
of its ``test_pipeline`` as ``RunChecksHook`` does; the head itself refuses a
checkpoint trained with another step count (issue 34)."""
import json
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from hman_mmaction.engine.checkpoint_config import (ACCEPT_KEY,
                                                    FEATURE_PREFIXES,
                                                    CheckpointConfigError,
                                                    FeatureProvenanceHook,
                                                    check_checkpoint_config,
                                                    config_differences,
                                                    state_dict_feature_sha256)
from hman_mmaction.engine.checkpoint_match import CheckpointMismatchError
from hman_mmaction.features.extract import state_dict_sha256
from hman_mmaction.features.store import FORMAT, VERSION
from hman_mmaction.models.checkpoint_guard import TestTimeStepsError
from tests.helpers import call_tool, data_overrides, make_tiny_dataset

HMAN = 'configs/hman_demo.py'
TSN = 'configs/demo/tsn_demo.py'
CACHED = 'configs/cached/hman_demo.py'


def checkpoint_of(cfg, path=None, **meta):
    """An mmengine-style checkpoint of ``cfg``'s model (fresh weights)."""
    model = MODELS.build(cfg.model)
    checkpoint = dict(
        state_dict=model.state_dict(), meta=dict(cfg=cfg.pretty_text, **meta))
    if path is not None:
        torch.save(checkpoint, path)
    return checkpoint


def demo(**head):
    cfg = Config.fromfile(HMAN)
    for key, value in head.items():  # replaced, not merged
        cfg.model.cls_head[key] = value
    return cfg


def keys(differences):
    return [d.key for d in differences]


def test_the_same_config_has_no_differences():
    cfg = demo()
    assert config_differences(checkpoint_of(cfg), demo()) == []


def test_training_only_options_and_omitted_defaults_are_no_differences():
    trained = demo(
        dropout_ratio=0.5,
        loss_boundary=None,
        init_std=0.01,
        fused_sequence=False)
    running = demo(temporal_pool='mean')  # the signature's default, written
    assert config_differences(checkpoint_of(trained), running) == []


def test_a_16_step_head_tested_with_the_8_step_config_is_refused():
    checkpoint = checkpoint_of(demo(num_segments=16))
    with pytest.raises(CheckpointConfigError) as info:
        check_checkpoint_config(checkpoint, demo(), 'ckpt.pth')
    message = str(info.value)
    assert 'cls_head.num_segments: checkpoint 16, config 8' in message
    assert f'{ACCEPT_KEY}=[cls_head.num_segments]' in message


def test_a_deliberate_change_is_accepted_with_a_warning(logged):
    checkpoint = checkpoint_of(demo(num_segments=16))
    cfg = demo()
    cfg[ACCEPT_KEY] = ['cls_head.num_segments']
    found = check_checkpoint_config(checkpoint, cfg, 'ckpt.pth')
    assert keys(found) == ['cls_head.num_segments']
    assert 'cls_head.num_segments' in '\n'.join(logged)


@pytest.mark.parametrize('change, key', [
    (dict(temporal_pool='last'), 'cls_head.temporal_pool'),
    (dict(
        rnn=dict(
            type='HMLSTM',
            hidden_size=64,
            num_layers=2,
            boundary=dict(type='NoBoundary'))), 'cls_head.rnn.boundary.type'),
    (dict(num_classes=36), 'cls_head.num_classes'),
])
def test_head_structure_differences_are_named(change, key):
    assert key in keys(
        config_differences(checkpoint_of(demo(**change)), demo()))


def test_another_input_normalisation_is_a_difference():
    trained = demo()
    trained.model.data_preprocessor.mean = [0.0, 0.0, 0.0]
    found = keys(config_differences(checkpoint_of(trained), demo()))
    assert found == ['data_preprocessor.mean']


def test_checkpoints_without_a_saved_config_are_not_compared():
    cfg = demo(num_segments=16)
    checkpoint = dict(
        state_dict=MODELS.build(cfg.model).state_dict(), meta=dict())
    assert config_differences(checkpoint, demo()) == []


# ------------------------------------------------------------ the runner
@pytest.fixture(scope='module')
def tiny_dataset(tmp_path_factory):
    return make_tiny_dataset(
        tmp_path_factory.mktemp('synthetic_actions'), train=2, val=2, test=2)


def options(root):
    """``--cfg-options`` of the tiny dataset, parsed as the tools do."""
    from mmengine.config import DictAction
    return {
        key: DictAction._parse_iterable(value)
        for key, value in (o.split('=', 1) for o in data_overrides(root))
    }


def test_the_test_tool_refuses_before_reading_data(tiny_dataset, tmp_path):
    from hman_mmaction.engine.launch import test
    checkpoint = tmp_path / 'hman16.pth'
    checkpoint_of(demo(num_segments=16), checkpoint)
    with pytest.raises(CheckpointConfigError, match='num_segments'):
        test(
            HMAN,
            str(checkpoint),
            work_dir=str(tmp_path / 'test'),
            cfg_options=options(tiny_dataset.root))


def test_the_test_tool_runs_a_deliberate_change_with_a_warning(
        tiny_dataset, tmp_path):
    checkpoint = tmp_path / 'hman16.pth'
    checkpoint_of(demo(num_segments=16), checkpoint)
    result = call_tool('test', [
        HMAN,
        str(checkpoint), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options',
        f'{ACCEPT_KEY}=[cls_head.num_segments]'
    ] + data_overrides(tiny_dataset.root))
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'cls_head.num_segments: checkpoint 16, config 8' in result.stdout
    assert 'acc/top1' in result.stdout


def test_resume_from_another_models_checkpoint_names_what_differs(
        tiny_dataset, tmp_path):
    from hman_mmaction.engine.launch import train
    checkpoint = tmp_path / 'tsn.pth'
    cfg = Config.fromfile(TSN)
    checkpoint_of(cfg, checkpoint, epoch=1, iter=1)
    with pytest.raises(CheckpointMismatchError) as info:
        train(
            HMAN,
            work_dir=str(tmp_path / 'train'),
            resume=str(checkpoint),
            cfg_options=options(tiny_dataset.root))
    message = str(info.value)
    assert 'cls_head.type' in message and "'TSNHead'" in message
    assert f'load_from={checkpoint}' in message


def test_resume_after_changing_the_heads_size_names_the_size(
        tiny_dataset, tmp_path):
    from hman_mmaction.engine.launch import train
    checkpoint = tmp_path / 'hman.pth'
    trained = demo()
    trained.model.cls_head.rnn.hidden_size = 32
    checkpoint_of(trained, checkpoint, epoch=1, iter=1)
    with pytest.raises(CheckpointMismatchError) as info:
        train(
            HMAN,
            work_dir=str(tmp_path / 'train'),
            resume=str(checkpoint),
            cfg_options=options(tiny_dataset.root))
    message = str(info.value)
    assert 'cls_head.rnn.hidden_size: checkpoint 32, config 64' in message
    assert 'shape mismatches' in message


# ------------------------------------------------------- feature stores
def fake_store(folder, weights_sha256, backbone, data_preprocessor=None):
    """A store manifest (all the comparison reads)."""
    folder.mkdir()
    manifest = dict(
        format=FORMAT,
        version=VERSION,
        fingerprint=dict(
            weights_sha256=weights_sha256,
            backbone=backbone,
            data_preprocessor=data_preprocessor),
        splits={})
    (folder / 'manifest.json').write_text(json.dumps(manifest))
    return str(folder)


def cached(store):
    cfg = Config.fromfile(CACHED)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.store = store
    return cfg


def test_feature_hash_of_a_checkpoint_equals_the_stores_hash():
    model = MODELS.build(Config.fromfile(HMAN).model)
    assert state_dict_feature_sha256(model.state_dict()) == \
        state_dict_sha256(model, FEATURE_PREFIXES)


def test_an_end_to_end_checkpoint_on_another_backbones_store_is_refused(
        tmp_path):
    trained = demo()
    checkpoint = checkpoint_of(trained)
    backbone = trained.model.backbone.to_dict()
    preprocessor = trained.model.data_preprocessor.to_dict()
    own = fake_store(tmp_path / 'own',
                     state_dict_feature_sha256(checkpoint['state_dict']),
                     backbone, preprocessor)
    assert config_differences(checkpoint, cached(own)) == []
    other = fake_store(tmp_path / 'other', 'f' * 64, backbone, preprocessor)
    with pytest.raises(CheckpointConfigError) as info:
        check_checkpoint_config(checkpoint, cached(other), 'e2e.pth')
    assert 'features.weights_sha256' in str(info.value)


class _Runner:  # what FeatureProvenanceHook reads of a runner

    def __init__(self, cfg):
        self.cfg = cfg
        self.model = MODELS.build(cfg.model)


def test_a_cached_head_on_another_backbones_store_is_refused(tmp_path):
    backbone = Config.fromfile(HMAN).model.backbone.to_dict()
    trained_on = cached(fake_store(tmp_path / 'a', 'a' * 64, backbone))
    runner = _Runner(trained_on)
    checkpoint = dict(
        state_dict=runner.model.state_dict(),
        meta=dict(cfg=trained_on.pretty_text))
    FeatureProvenanceHook().before_save_checkpoint(runner, checkpoint)
    assert checkpoint['meta']['hman_feature_store']['weights_sha256'] == \
        'a' * 64
    same = cached(osp.join(tmp_path, 'a'))
    assert config_differences(checkpoint, same) == []
    other = cached(fake_store(tmp_path / 'b', 'b' * 64, backbone))
    with pytest.raises(CheckpointConfigError) as info:
        check_checkpoint_config(checkpoint, other, 'head.pth')
    message = str(info.value)
    assert 'features.weights_sha256' in message and str(tmp_path / 'b') in \
        message


# -------------------------------------------------------------- inference
def first_video(dataset):
    with open(dataset.ann_file('test')) as f:
        name = f.readline().split()[0]
    return osp.join(dataset.video_root, name)


def test_inference_hman_refuses_a_16_clip_test_pipeline(
        tiny_dataset, tmp_path):
    from mmaction.apis import init_recognizer

    from hman_mmaction.apis import inference_hman
    cfg = demo()
    checkpoint = tmp_path / 'hman.pth'
    checkpoint_of(cfg, checkpoint)
    for step in cfg.test_pipeline:
        if step['type'] == 'SampleFrames':
            step['num_clips'] = 16
    model = init_recognizer(cfg, str(checkpoint), device='cpu')
    video = first_video(tiny_dataset)
    with pytest.raises(ValueError, match=r'test_pipeline.*16 frames'):
        inference_hman(model, video, test_pipeline=cfg.test_pipeline)


def test_inference_refuses_a_checkpoint_trained_for_16_steps(
        tiny_dataset, tmp_path):
    from mmaction.apis import inference_recognizer, init_recognizer
    checkpoint = tmp_path / 'hman16.pth'
    checkpoint_of(demo(num_segments=16), checkpoint)
    model = init_recognizer(demo(), str(checkpoint), device='cpu')
    video = first_video(tiny_dataset)
    with pytest.raises(TestTimeStepsError, match='num_segments=16'):
        inference_recognizer(model, video)  # the head refuses (issue 34)
