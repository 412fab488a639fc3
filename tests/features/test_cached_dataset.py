"""CachedFeatureDataset packs store records like a video sample: inputs
[T, C, H, W] + ActionDataSample with gt_label; K stored training views are
drawn at random (one sample per video) or all listed."""
import json
import os.path as osp

import numpy as np
import pytest
from mmaction.structures import ActionDataSample

from hman_mmaction.features import CachedFeatureDataset, FeatureStore


def test_sample_is_a_packed_record_with_its_label(demo_store):
    dataset = CachedFeatureDataset(demo_store, 'test', test_mode=True)
    with open(osp.join(demo_store, 'manifest.json')) as f:
        labels = json.load(f)['splits']['test']['labels']
    records = FeatureStore(demo_store).open_split('test')
    assert len(dataset) == len(labels) == 4
    for i in range(4):
        sample = dataset[i]
        assert isinstance(sample['data_samples'], ActionDataSample)
        assert int(sample['data_samples'].gt_label) == labels[i]
        assert tuple(sample['inputs'].shape) == (16, 128, 4, 4)  # 2 views
        assert np.array_equal(sample['inputs'].numpy(), records[i])


def test_random_view_sampling_draws_among_the_videos_own_views(demo_store):
    dataset = CachedFeatureDataset(demo_store, 'train')
    assert len(dataset) == 8  # one sample per video, as end to end
    records = FeatureStore(demo_store).open_split('train')
    np.random.seed(0)
    seen = set()
    for _ in range(20):
        inputs = dataset[3]['inputs'].numpy()
        matches = [r for r in (6, 7) if np.array_equal(inputs, records[r])]
        assert len(matches) == 1  # video 3 = records 6 and 7
        seen.add(matches[0])
    assert seen == {6, 7}


def test_all_view_sampling_lists_every_view(demo_store):
    dataset = CachedFeatureDataset(demo_store, 'train', view_sampling='all')
    assert len(dataset) == 16
    assert [dataset.get_data_info(i)['records'] for i in (0, 1, 15)] == [[0],
                                                                         [1],
                                                                         [15]]
    with pytest.raises(ValueError, match="'random', 'all'"):
        CachedFeatureDataset(demo_store, 'train', view_sampling='each')


def test_missing_store_and_split_say_how_to_make_them(demo_store, tmp_path):
    with pytest.raises(RuntimeError, match='extract one with hman_mmaction'):
        CachedFeatureDataset(str(tmp_path / 'nothing'), 'train')
    with pytest.raises(RuntimeError, match="no split 'trainval'"):
        CachedFeatureDataset(demo_store, 'trainval')
