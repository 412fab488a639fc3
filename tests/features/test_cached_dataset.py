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


def test_cached_samples_carry_frame_inds_and_segments_for_the_metric(
        demo_store, tiny_videos):
    """The store keeps each record's sampled frames and each video's
    ground-truth segments; BoundaryMetric scores cached predictions."""
    import torch

    from hman_mmaction.datasets.synthetic_actions import load_segments
    from hman_mmaction.evaluation import BoundaryMetric
    segments = load_segments(tiny_videos.ann_file('test'))
    dataset = CachedFeatureDataset(demo_store, 'test', test_mode=True)
    metric = BoundaryMetric(random_draws=2)
    for i in range(4):
        sample = dataset[i]['data_samples']
        # twice_sample: 2 views x 8 segments of a 16-frame video
        inds = sample.metainfo['frame_inds']
        assert inds.shape == (16, ) and 0 <= inds.min() <= inds.max() < 16
        assert sample.metainfo['gt_segments'] == segments[f'test/{i:05d}.mp4']
        sample.set_field(torch.zeros(2, 2, 8), 'boundaries')
        metric.process(None, [sample.to_dict()])
    scores = metric.compute_metrics(metric.results)
    assert scores['views'] == 8 and scores['l1_rate'] == 0
    # train records: each view its own (seeded) sampling
    train = FeatureStore(demo_store).open_frame_inds('train')
    assert train.shape == (16, 8) and (train >= 0).all()


def test_store_of_an_older_version_is_refused_with_the_fix(
        demo_store, tmp_path):
    import shutil
    old = str(tmp_path / 'old')
    shutil.copytree(demo_store, old)
    manifest = json.loads(open(osp.join(old, 'manifest.json')).read())
    manifest['version'] = 1
    with open(osp.join(old, 'manifest.json'), 'w') as f:
        json.dump(manifest, f)
    with pytest.raises(ValueError, match='version 1.*extract it again'):
        CachedFeatureDataset(old, 'test', test_mode=True)


def test_test_loop_on_cached_features_reports_boundary_metrics(
        demo_store, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from hman_mmaction.evaluation import enable_boundary_evaluation
    cfg = Config.fromfile('configs/cached/hman_demo.py')
    cfg.test_dataloader.update(batch_size=4)
    cfg.test_dataloader.dataset.store = demo_store
    cfg.work_dir = str(tmp_path)
    enable_boundary_evaluation(cfg)
    metrics = Runner.from_cfg(cfg).test()
    assert 'acc/top1' in metrics and 'boundary/l2_f1' in metrics
    assert metrics['boundary/views'] == 8  # 4 videos x 2 stored views


def test_cached_test_loop_reports_attention_against_the_boxes(
        demo_store, tiny_videos, tmp_path):
    """The store keeps each video's boxes and each record's geometry; the
    test loop on cached features scores the attention like end to end."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from hman_mmaction.datasets.synthetic_actions import load_boxes
    from hman_mmaction.evaluation import enable_attention_evaluation
    boxes = load_boxes(tiny_videos.ann_file('test'))
    sample = CachedFeatureDataset(
        demo_store, 'test', test_mode=True)[1]['data_samples']
    assert sample.metainfo['gt_boxes'] == boxes['test/00001.mp4']
    # 2 views x 8 frames of the 32 px video, seen whole
    geometry = sample.metainfo['box_geometry']
    assert geometry.shape == (16, 8)
    assert (geometry == [1, 1, 0, 0, 32, 32, 32, 32]).all()
    cfg = Config.fromfile('configs/cached/hman_demo.py')
    cfg.test_dataloader.update(batch_size=4)
    cfg.test_dataloader.dataset.store = demo_store
    cfg.work_dir = str(tmp_path)
    enable_attention_evaluation(cfg)
    metrics = Runner.from_cfg(cfg).test()
    assert metrics['attention/steps'] == 4 * 2 * 8
    assert 0 < metrics['attention/mass_target_uniform'] < 1
