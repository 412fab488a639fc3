"""Shared inputs of the feature-cache tests: tiny synthetic videos, a demo
recognizer checkpoint (random weights, saved like mmengine does) and a
feature store extracted from them."""
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from hman_mmaction.features import extract_features
from tests.helpers import make_tiny_dataset

DEMO = 'configs/hman_demo.py'


def demo_config(root, **head) -> Config:
    """configs/hman_demo.py on the tiny data in ``root`` (no workers)."""
    cfg = Config.fromfile(DEMO)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        loader.dataset.update(
            ann_file=f'{root}/{split}_list_videos.txt',
            data_prefix=dict(video=f'{root}/videos'))
    cfg.model.cls_head.update(head)
    return cfg


def save_checkpoint(model, path):
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), str(path))
    return str(path)


@pytest.fixture(scope='session')
def tiny_videos(tmp_path_factory):
    """8 train, 4 val, 4 test synthetic videos (32 px, 16 frames)."""
    return make_tiny_dataset(tmp_path_factory.mktemp('videos'))


@pytest.fixture(scope='session')
def demo_checkpoint(tiny_videos, tmp_path_factory):
    torch.manual_seed(0)
    model = MODELS.build(demo_config(tiny_videos.root).model)
    model.init_weights()
    return save_checkpoint(model, tmp_path_factory.mktemp('ckpt') / 'demo.pth')


@pytest.fixture(scope='session')
def demo_store(tiny_videos, demo_checkpoint, tmp_path_factory):
    """All three splits, 2 seeded views of every training video."""
    out = str(tmp_path_factory.mktemp('store') / 'demo')
    extract_features(
        demo_config(tiny_videos.root),
        demo_checkpoint,
        out,
        views=2,
        batch_size=4,
        progress=False)
    return out
