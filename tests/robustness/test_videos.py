"""Unreadable videos (random bytes, truncated, zero frames) and too-short
videos: a clear error by default; with ``skip_broken_videos=True`` training
skips and counts them and testing scores them as wrong."""
import glob
import json
import os.path as osp
import pickle

import pytest
import torch
from mmaction.registry import DATASETS, METRICS
from mmaction.structures import ActionDataSample
from mmengine.config import Config

from hman_mmaction.datasets import BrokenVideoError
from tests.helpers import call_tool, data_overrides
from tests.robustness.conftest import (BROKEN_KINDS, captured_log,
                                       write_short_video)

DATA_CFG = Config.fromfile('configs/_base_/datasets/synthetic_actions.py')
NUM_GOOD = 8  # train videos of the tiny dataset; broken ones follow


def build(root, split='train', **kwargs):
    pipeline = DATA_CFG.train_pipeline if split == 'train' else \
        DATA_CFG.val_pipeline
    return DATASETS.build(
        dict(
            type='CheckedVideoDataset',
            ann_file=f'{root}/{split}_list_videos.txt',
            data_prefix=dict(video=f'{root}/videos'),
            pipeline=pipeline,
            num_classes=12,
            test_mode=split != 'train',
            **kwargs))


@pytest.mark.parametrize('kind', BROKEN_KINDS)
def test_a_broken_video_raises_an_error_naming_the_video_and_its_line(
        dirty_dataset, kind):
    dataset = build(dirty_dataset)
    index = NUM_GOOD + BROKEN_KINDS.index(kind)
    with pytest.raises(BrokenVideoError) as info:
        dataset[index]
    message = str(info.value)
    assert f'broken/{kind}.mp4' in message
    assert f'line {index + 1} of {dirty_dataset}/train_list_videos.txt' \
        in message
    assert 'skip_broken_videos=True' in message


def test_skip_broken_videos_stands_in_the_next_readable_clip(dirty_dataset):
    dataset = build(dirty_dataset, skip_broken_videos=True)
    sample = dataset[NUM_GOOD]  # random bytes -> ... -> wraps to clip 0
    assert sample['inputs'].shape[0] == DATA_CFG.num_segments
    assert sample['data_samples'].broken_video.endswith('random_bytes.mp4')
    assert sample['data_samples'].gt_label.item() == \
        dataset.get_data_info(0)['label']  # training: the stand-in's label
    assert 'broken_video' not in dataset[0]['data_samples'].metainfo


def test_at_test_time_the_stand_in_keeps_the_broken_clips_label(dirty_dataset):
    dataset = build(dirty_dataset, split='test', skip_broken_videos=True)
    index = len(dataset) - 1  # zero_frames.mp4, label 1
    assert dataset.get_data_info(index)['label'] == 1
    sample = dataset[index]['data_samples']
    assert sample.broken_video.endswith('zero_frames.mp4')
    assert sample.gt_label.item() == 1


def short_dataset(root, tmp_path):
    write_short_video(str(root / 'videos' / 'short.mp4'), frames=3)
    (tmp_path / 'short.txt').write_text('short.mp4 4\n')
    return dict(
        ann_file=str(tmp_path / 'short.txt'),
        data_prefix=dict(video=str(root / 'videos')),
        pipeline=DATA_CFG.train_pipeline,
        num_classes=12,
        type='CheckedVideoDataset')


def test_a_video_shorter_than_num_segments_repeats_frames_with_a_warning(
        dirty_dataset, tmp_path):
    dataset = DATASETS.build(short_dataset(dirty_dataset, tmp_path))
    with captured_log() as log:
        sample = dataset[0]
    assert sample['inputs'].shape[0] == DATA_CFG.num_segments  # 3 -> 8
    assert any('short.mp4' in m and 'has 3 frame(s), fewer than the 8' in m
               for m in log)


def test_short_videos_error_makes_a_short_video_a_broken_one(
        dirty_dataset, tmp_path):
    dataset = DATASETS.build(
        dict(short_dataset(dirty_dataset, tmp_path), short_videos='error'))
    with pytest.raises(BrokenVideoError, match='short.mp4.* has 3 frame'):
        dataset[0]


def scored(label, scores, broken=None):
    sample = ActionDataSample().set_gt_label(label)
    sample.set_pred_score(torch.tensor(scores))
    if broken:
        sample.set_metainfo(dict(broken_video=broken))
    return sample.to_dict()


def test_the_metric_counts_broken_clips_as_wrong_and_reports_them():
    metric = METRICS.build(
        dict(type='RobustAccMetric', metric_list=('top_k_accuracy', )))
    metric.dataset_meta = {}
    # all three predictions are right, but the second clip was unreadable
    metric.process(None, [
        scored(0, [.9, .05, .05]),
        scored(1, [.05, .9, .05], broken='b.mp4'),
        scored(2, [.05, .05, .9])
    ])
    results = metric.evaluate(3)
    assert results['acc/top1'] == pytest.approx(2 / 3)
    assert results['acc/broken_videos'] == 1


def train_then_test(root, work_dir):
    """1 epoch on train (8 good + 3 broken), then test (4 good + 3 broken),
    both with skip_broken_videos=True."""
    options = data_overrides(root) + [
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1',
        'train_dataloader.dataset.skip_broken_videos=True',
        'val_dataloader.dataset.skip_broken_videos=True',
        'test_dataloader.dataset.skip_broken_videos=True'
    ]
    train = call_tool(
        'train',
        ['configs/hman_demo.py', '--work-dir',
         str(work_dir), '--cfg-options'] + options)
    dump = str(work_dir / 'preds.pkl')
    test = call_tool('test', [
        'configs/hman_demo.py',
        str(work_dir / 'epoch_1.pth'), '--work-dir',
        str(work_dir), '--dump', dump, '--cfg-options'
    ] + options)
    return train, test, dump


def test_skipping_broken_clips_completes_the_epoch_and_counts_them(
        dirty_dataset, tmp_path):
    train, test, dump = train_then_test(dirty_dataset, tmp_path)
    assert train.returncode == 0, train.stdout[-3000:]
    assert 'Epoch 1: skipped 3 unreadable clip(s)' in train.stdout
    for kind in BROKEN_KINDS:
        assert f'broken/{kind}.mp4' in train.stdout
    log = glob.glob(str(tmp_path / '*' / 'vis_data' / 'scalars.json'))[0]
    with open(log) as f:
        iters = [json.loads(line) for line in f if '"loss"' in line]
    assert len(iters) == 3  # ceil((8 + 3) / 4): the epoch kept its length
    assert test.returncode == 0, test.stdout[-3000:]
    assert 'acc/broken_videos: 3' in test.stdout
    with open(dump, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 4 + 3  # broken clips stay in the denominator
    assert osp.exists(tmp_path / 'epoch_1.pth')
