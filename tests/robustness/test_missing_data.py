"""Missing data explained (issue 14, item 6): a missing annotation file
names its path, the working directory it is relative to, and how to make
or point to the data; a list whose videos are all missing (a wrong
``data_prefix``) says so in its first line and lists only a few lines."""
import os

import pytest
from mmaction.registry import DATASETS

from hman_mmaction.datasets.checked_video_dataset import (
    MAX_LISTED, AnnotationError, MissingAnnotationFileError)


def build(ann_file, prefix):
    return DATASETS.build(
        dict(
            type='CheckedVideoDataset',
            ann_file=ann_file,
            data_prefix=dict(video=prefix),
            pipeline=[],
            num_classes=12))


def test_a_missing_annotation_file_names_path_working_dir_and_fix(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        build('data/synthetic_actions/train_list_videos.txt', 'videos')
    assert isinstance(info.value, MissingAnnotationFileError)
    message = str(info.value)
    assert "'data/synthetic_actions/train_list_videos.txt'" in message
    assert 'relative to the working directory' in message
    assert str(tmp_path) in message
    assert 'make_synthetic_actions.py' in message
    assert 'train_dataloader.dataset.ann_file=' in message


def test_a_wrong_data_prefix_says_so_first_and_lists_only_a_few_lines(
        tiny_dataset, tmp_path):
    lines = [f'train/{i:05d}.mp4 {i % 12}' for i in range(200)]
    ann_file = tmp_path / 'list.txt'
    ann_file.write_text('\n'.join(lines) + '\n')
    wrong = os.path.join(tiny_dataset.root, 'no_such_folder')
    with pytest.raises(AnnotationError) as info:
        build(str(ann_file), wrong)
    message = str(info.value)
    first = message.splitlines()[0]
    assert first.startswith('None of the 200 videos listed in')
    assert 'data_prefix' in first and wrong in first
    assert message.count('\n  line ') == MAX_LISTED
    assert '190 more invalid line(s)' in message
    assert len(message.splitlines()) < MAX_LISTED + 6


def test_a_few_missing_videos_are_not_reported_as_a_wrong_prefix(
        tiny_dataset, tmp_path):
    ann_file = tmp_path / 'list.txt'
    ann_file.write_text('train/00000.mp4 1\ntrain/missing.mp4 2\n')
    with pytest.raises(AnnotationError) as info:
        build(str(ann_file), os.path.join(tiny_dataset.root, 'videos'))
    assert not str(info.value).startswith('None of')
    assert 'line 2:' in str(info.value)
