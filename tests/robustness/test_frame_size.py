"""No silent out-of-memory kill (issue 14, item 1): every video pipeline
brings frames to the size its model was built for, so one 1920x1080 video
among the demo's 64x64 ones no longer makes the data preprocessor pad the
whole batch to 1080p; a frame far larger than expected is named."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.dataset import Compose

from hman_mmaction.datasets import batch_input_bytes
from hman_mmaction.datasets.synthetic_actions import write_mp4
from tests.helpers import REPO
from tests.robustness.conftest import captured_log

DEMO = osp.join(REPO, 'configs', 'hman_demo.py')
# resize steps that end in a fixed size, or that bound it (FitFrameSize)
SIZING = {
    'Resize', 'FitFrameSize', 'CenterCrop', 'ThreeCrop', 'TenCrop',
    'MultiScaleCrop', 'RandomResizedCrop'
}
VIDEO_CONFIGS = sorted(
    osp.relpath(p, REPO) for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p and '/cached/' not in p)


@pytest.fixture(scope='module')
def full_hd_video(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('fullhd') / 'phone.mp4')
    frames = np.random.RandomState(0).randint(
        0, 255, (8, 1080, 1920, 3), dtype=np.uint8)
    write_mp4(path, frames, 10)
    return path


@pytest.mark.parametrize('config', VIDEO_CONFIGS)
def test_every_video_pipeline_sizes_frames_after_decoding(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        steps = [s['type'] for s in cfg[loader].dataset.pipeline]
        decode = next(i for i, s in enumerate(steps) if s.endswith('Decode'))
        assert SIZING & set(steps[decode + 1:]), (config, loader, steps)


@pytest.mark.parametrize(
    'loader', ['train_dataloader', 'val_dataloader', 'test_dataloader'])
def test_a_full_hd_video_in_the_demo_data_becomes_64x64_and_is_named(
        full_hd_video, loader):
    cfg = Config.fromfile(DEMO)
    pipeline = Compose(cfg[loader].dataset.pipeline)
    with captured_log() as log:
        sample = pipeline(
            dict(
                filename=full_hd_video, label=0, start_index=0,
                modality='RGB'))
    assert tuple(sample['inputs'].shape[-2:]) == (64, 64)
    warning = '\n'.join(log)
    assert full_hd_video in warning and '1920x1080' in warning
    assert '64x64' in warning


def test_the_padded_demo_batch_stays_small(full_hd_video, tiny_dataset):
    """Memory estimate of the batch the preprocessor builds from one
    32x32 demo clip and the 1080p clip: bounded by the 64x64 frame size,
    instead of 16 clips x 8 frames x 1080p = 1.6 GB of float32 input."""
    cfg = Config.fromfile(DEMO)
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline)
    small = osp.join(tiny_dataset.root, 'videos', 'train', '00000.mp4')
    batch = [
        pipeline(dict(filename=f, label=0, start_index=0, modality='RGB'))
        for f in (small, full_hd_video)
    ]
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    data = preprocessor(
        dict(
            inputs=[b['inputs'] for b in batch],
            data_samples=[b['data_samples'] for b in batch]))
    inputs = data['inputs']
    assert tuple(inputs.shape[-2:]) == (64, 64)
    batch_size = cfg.train_dataloader.batch_size
    frames = cfg.num_segments
    estimate = batch_input_bytes(batch_size, frames, *inputs.shape[-2:])
    assert estimate <= batch_input_bytes(batch_size, frames, 64, 64)
    assert estimate < 20 * 2**20  # vs 1.6 GB unresized
    assert batch_input_bytes(batch_size, frames, 1920, 1080) > 2**30


def test_inference_on_a_full_hd_video_says_so(full_hd_video):
    from mmaction.apis import inference_recognizer, init_recognizer
    model = init_recognizer(DEMO, checkpoint=None, device='cpu')
    with captured_log() as log, torch.no_grad():
        result = inference_recognizer(model, full_hd_video)
    assert result.pred_score.shape == (12, )
    assert any('1920x1080' in line for line in log)
