"""Every config in configs/ loads, builds, and (ablations, baselines,
main configs) runs one training iteration of its model with its own
optimizer settings."""
import ast
import glob
import os
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from tests.helpers import REPO

CONFIGS = sorted(
    osp.relpath(path, REPO) for path in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if f'{os.sep}_base_{os.sep}' not in path)
HEAD_TYPES = {'HMANHead', 'TSNHead'}


def test_there_are_configs_for_each_role():
    names = ' '.join(CONFIGS)
    for expected in ('configs/hman_ucf101.py', 'configs/hman_hmdb51.py',
                     'configs/hman_demo.py', 'attlstm_', 'tsn_',
                     'hman-hard-att', 'hman-hardsigmoid-bnd', 'hman-no-bnd',
                     'hman-fixed-tau', 'hman-annealed-tau', 'hman-1-layer',
                     'hman-3-layer', 'hman-oracle-bnd', 'hman-random-bnd'):
        assert expected in names, f'no config matching {expected}'


@pytest.mark.parametrize('path', CONFIGS)
def test_config_loads_with_the_plugin_and_a_known_head(path):
    cfg = Config.fromfile(osp.join(REPO, path))
    assert 'hman_mmaction' in cfg.custom_imports.imports
    assert cfg.model.type == 'Recognizer2D' or 'Cached' in cfg.model.type
    assert cfg.model.cls_head.type in HEAD_TYPES
    assert cfg.optim_wrapper.get('clip_grad'), 'recurrent heads need clipping'
    if cfg.model.cls_head.type == 'HMANHead':
        pipeline = cfg.train_dataloader.dataset.get('pipeline') or []
        for step in pipeline:
            if step['type'] == 'SampleFrames':
                assert step['num_clips'] == cfg.model.cls_head.num_segments


@pytest.mark.parametrize('dataset', ['ucf101', 'hmdb51'])
def test_each_split_has_its_own_config_and_no_environment_variable_changes_it(
        dataset, monkeypatch):
    monkeypatch.setenv(f'{dataset.upper()}_SPLIT', '3')  # the old switch
    for split in (1, 2, 3):
        [path] = glob.glob(
            osp.join(REPO, 'configs', 'hman',
                     f'hman_*_{dataset}-split{split}-rgb.py'))
        cfg = Config.fromfile(path)
        assert cfg.split == split
        for loader, part in (('train_dataloader', 'train'),
                             ('val_dataloader', 'val'), ('test_dataloader',
                                                         'val')):
            assert cfg[loader].dataset.ann_file == (
                f'data/{dataset}/{dataset}_{part}_split_{split}_videos.txt')
            assert cfg[loader].dataset.data_prefix.video == \
                f'data/{dataset}/videos'
    with open(path) as f:  # split 3: small, inherits split 1
        text = f.read()
    assert f'{dataset}-split1-rgb.py' in text and len(text.splitlines()) < 15


def test_dataset_bases_only_add_the_data_to_the_shared_pipeline_base():
    base = osp.join(REPO, 'configs', '_base_', 'datasets')
    for name in ('ucf101_tsn-1x1x16-rgb.py', 'hmdb51_tsn-1x1x16-rgb.py'):
        with open(osp.join(base, name)) as f:
            code = [
                line for line in f if line.strip() and not line.startswith('#')
            ]
        assert len(code) <= 16, name
        assert not any('pipeline' in line for line in code[1:]), name


def test_configs_define_no_functions():
    for path in glob.glob(
            osp.join(REPO, 'configs', '**', '*.py'), recursive=True):
        with open(path) as f:
            tree = ast.parse(f.read())
        defs = [
            type(node).__name__ for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.Lambda, ast.ClassDef))
        ]
        assert not defs, (path, defs)


def test_hmdb51_config_targets_51_classes_and_its_own_lists():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'hman_hmdb51.py'))
    assert cfg.model.cls_head.num_classes == 51
    assert cfg.train_dataloader.dataset.ann_file == \
        'data/hmdb51/hmdb51_train_split_1_videos.txt'


def test_baselines_are_configurations_of_the_same_components():
    main = Config.fromfile(osp.join(REPO, 'configs', 'hman_ucf101.py'))
    [attlstm] = glob.glob(
        osp.join(REPO, 'configs', 'baselines', 'attlstm_*ucf101*.py'))
    [tsn
     ] = glob.glob(osp.join(REPO, 'configs', 'baselines', 'tsn_*ucf101*.py'))
    attlstm, tsn = Config.fromfile(attlstm), Config.fromfile(tsn)
    assert attlstm.model.cls_head.type == 'HMANHead'
    assert attlstm.model.cls_head.rnn.boundary.type == 'NoBoundary'
    assert tsn.model.cls_head.type == 'TSNHead'
    for other in (attlstm, tsn):  # identical data, backbone, schedule
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                    'optim_wrapper', 'param_scheduler', 'train_cfg'):
            assert other[key] == main[key], key
        assert other.model.backbone == main.model.backbone


def tiny_batch(cfg, num_videos=2, size=64):
    """Random uint8 videos shaped as the config's pipeline would give."""
    head = cfg.model.cls_head
    frames = head.get('num_segments', 8)
    inputs = [
        torch.randint(0, 256, (frames, 3, size, size), dtype=torch.uint8)
        for _ in range(num_videos)
    ]
    samples = [
        ActionDataSample().set_gt_label(i % head.num_classes)
        for i in range(num_videos)
    ]
    for sample in samples:  # what the diagnostic boundaries read
        sample.set_metainfo(
            dict(
                frame_inds=list(range(frames)),
                gt_segments=[[0, frames // 2, 'up'],
                             [frames // 2, frames, 'down']]))
    return dict(inputs=inputs, data_samples=samples)


TRAINABLE = [
    path for path in CONFIGS if '/cached/' not in path.replace(os.sep, '/')
]


@pytest.mark.parametrize('path', TRAINABLE)
def test_config_model_runs_one_training_iteration(path):
    cfg = Config.fromfile(osp.join(REPO, path))
    cfg.model.backbone.pretrained = None  # no download in tests
    model = MODELS.build(cfg.model)
    model.init_weights()
    losses = getattr(model.cls_head, 'losses', {})
    rate_loss = losses['loss_boundary'] if 'loss_boundary' in losses else None
    if getattr(rate_loss, 'auto', False):  # what BoundaryRateFromDataHook
        rate_loss.set_target_rate(0.125)  # sets before training
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = [p.detach().clone() for p in model.cls_head.parameters()]
    if cfg.model.backbone.get('depth', 0) >= 50:
        # ResNet-50 on CPU: one 32x32 clip (a 1x1 map) keeps this cheap
        batch = tiny_batch(cfg, num_videos=1, size=32)
    else:
        batch = tiny_batch(cfg)
    log_vars = model.train_step(batch, optim_wrapper)
    assert torch.isfinite(log_vars['loss']), log_vars
    assert 'loss_cls' in log_vars
    changed = [
        not torch.equal(b, p)
        for b, p in zip(before, model.cls_head.parameters())
    ]
    assert any(changed), 'the optimizer step left the head unchanged'
