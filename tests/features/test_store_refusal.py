"""A store is never mixed: another backbone (checkpoint or config), another
pipeline or another data list is refused with the store, the field and the
fix named."""
import pytest
import torch
from mmaction.registry import MODELS

from hman_mmaction.features import (CachedFeatureDataset, StoreMismatchError,
                                    extract_features)
from hman_mmaction.features.extract import state_dict_sha256
from tests.features.conftest import demo_config, save_checkpoint
from tests.helpers import call_tool


def test_store_of_another_checkpoint_is_refused(tiny_videos, demo_store,
                                                demo_checkpoint, tmp_path):
    cfg = demo_config(tiny_videos.root)
    model = MODELS.build(cfg.model)
    model.load_state_dict(torch.load(demo_checkpoint)['state_dict'])
    before = state_dict_sha256(model, ('backbone.', ))
    with torch.no_grad():
        model.backbone.conv1.conv.weight[0, 0, 0, 0] += 1e-3
    assert state_dict_sha256(model, ('backbone.', )) != before
    other = save_checkpoint(model, tmp_path / 'other.pth')
    with pytest.raises(StoreMismatchError) as error:
        extract_features(
            cfg, other, demo_store, splits=['val'], progress=False)
    message = str(error.value)
    assert demo_store in message and "'weights_sha256'" in message
    assert '--out NEW_DIR' in message


def test_store_of_another_backbone_config_is_refused(tiny_videos, demo_store):
    cfg = demo_config(tiny_videos.root)
    cfg.model.backbone.num_stages = 3
    cfg.model.backbone.strides = (1, 2, 2)
    cfg.model.backbone.dilations = (1, 1, 1)
    cfg.model.backbone.out_indices = (2, )
    with pytest.raises(StoreMismatchError, match="'backbone'"):
        extract_features(cfg, None, demo_store, splits=['val'], progress=False)


def test_split_with_another_pipeline_is_refused_by_the_cli(
        tiny_videos, demo_store, demo_checkpoint):
    root = tiny_videos.root
    result = call_tool('extract_features', [
        'configs/hman_demo.py', demo_checkpoint, '--out', demo_store,
        '--splits', 'val', '--views', '2', '--batch-size', '4',
        '--cfg-options',
        f'val_dataloader.dataset.ann_file={root}/val_list_videos.txt',
        f'val_dataloader.dataset.data_prefix.video={root}/videos',
        'val_dataloader.dataset.pipeline.1.frame_interval=2'
    ])
    assert result.returncode != 0
    assert 'StoreMismatchError' in result.stdout
    assert "split 'val'" in result.stdout and "'pipeline'" in result.stdout
    assert '--out NEW_DIR' in result.stdout
    # the store is untouched and still readable
    assert len(CachedFeatureDataset(demo_store, 'val', test_mode=True)) == 4


def test_same_backbone_and_pipeline_reuses_the_complete_store(
        tiny_videos, demo_store, demo_checkpoint, logged):
    store = extract_features(
        demo_config(tiny_videos.root),
        demo_checkpoint,
        demo_store,
        views=2,
        batch_size=4,
        progress=False)
    assert any('complete in' in message for message in logged)
    assert store.summary() == {
        'train': '16/16 [8, 128, 4, 4]',
        'val': '4/4 [8, 128, 4, 4]',
        'test': '4/4 [16, 128, 4, 4]'
    }
