"""Malformed annotation lines: one error before training that lists every
bad line (file, line number, why, the fix), or skipped and logged with
``skip_invalid=True``."""
import re

import pytest
from mmaction.registry import DATASETS
from mmengine.config import Config

from hman_mmaction.datasets import AnnotationError, CheckedVideoDataset
from tests.helpers import call_tool, data_overrides
from tests.robustness.conftest import captured_log

GOOD = ['train/00000.mp4 2', 'train/00001.mp4 4', 'train/00002.mp4 3']
BAD = {  # line content -> what the report must say
    'train/00003.mp4': 'missing label',
    'train/00004.mp4 5 7': '3 fields',
    'train/00005.mp4 five': "label 'five' is not an integer",
    'train/00006.mp4 12': 'label 12 is out of range [0, 12)',
    'train/00007.mp4 -1': 'label -1 is out of range',
    '': 'blank line',
    'train/missing.mp4 3': 'does not exist',
}


def write_list(path, lines):
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def mixed_lines():
    """Good and bad lines interleaved; returns (lines, {lineno: reason})."""
    lines, expected = [], {}
    for good, (bad, reason) in zip(GOOD * 3, BAD.items()):
        lines.append(good)
        lines.append(bad)
        expected[len(lines)] = reason
    return lines, expected


def build(ann_file, root, **kwargs):
    return DATASETS.build(
        dict(
            type='CheckedVideoDataset',
            ann_file=ann_file,
            data_prefix=dict(video=f'{root}/videos'),
            pipeline=[],
            num_classes=12,
            **kwargs))


def test_every_bad_line_is_listed_in_one_error_naming_file_line_and_fix(
        tiny_dataset, tmp_path):
    lines, expected = mixed_lines()
    ann_file = write_list(tmp_path / 'list.txt', lines)
    with pytest.raises(AnnotationError) as info:
        build(ann_file, tiny_dataset.root)
    message = str(info.value)
    assert ann_file in message
    assert f'{len(expected)} invalid line(s) of {len(lines)}' in message
    reported = {int(n) for n in re.findall(r'line (\d+):', message)}
    assert reported == set(expected)
    for lineno, reason in expected.items():
        line = next(m for m in message.splitlines()
                    if m.strip().startswith(f'line {lineno}:'))
        assert reason in line
    assert 'skip_invalid=True' in message
    assert 'num_classes=12' in message


def test_skip_invalid_keeps_the_good_lines_and_logs_the_bad_ones(
        tiny_dataset, tmp_path):
    lines, expected = mixed_lines()
    ann_file = write_list(tmp_path / 'list.txt', lines)
    with captured_log() as log:
        dataset = build(ann_file, tiny_dataset.root, skip_invalid=True)
    assert len(dataset) == len(lines) - len(expected)
    assert [dataset.get_data_info(i)['ann_line'] for i in range(len(dataset))
            ] == [n for n in range(1,
                                   len(lines) + 1) if n not in expected]
    report = '\n'.join(log)
    assert f'{len(expected)} invalid line(s) of {len(lines)}' in report
    assert 'skipped' in report
    for lineno in expected:
        assert f'line {lineno}:' in report


def test_blank_lines_at_the_end_of_the_file_are_not_errors(
        tiny_dataset, tmp_path):
    ann_file = write_list(tmp_path / 'list.txt', GOOD + ['', '  '])
    dataset = build(ann_file, tiny_dataset.root)
    assert len(dataset) == len(GOOD)
    assert dataset.get_data_info(1)['label'] == 4


def test_a_list_of_only_bad_lines_with_skip_invalid_still_fails(
        tiny_dataset, tmp_path):
    ann_file = write_list(tmp_path / 'list.txt', ['a.mp4 x', 'b.mp4'])
    with pytest.raises(AnnotationError, match='no usable line'):
        build(ann_file, tiny_dataset.root, skip_invalid=True)


@pytest.mark.parametrize('config', [
    'configs/_base_/datasets/synthetic_actions.py',
    'configs/_base_/datasets/ucf101_tsn-1x1x16-rgb.py',
    'configs/_base_/datasets/hmdb51_tsn-1x1x16-rgb.py'
])
def test_dataset_configs_use_the_checked_dataset_with_num_classes(config):
    cfg = Config.fromfile(config)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        # the checked dataset's own name (VideoDataset stays mmaction2's)
        assert dataset.type == 'CheckedVideoDataset'
        assert DATASETS.get(dataset.type) is CheckedVideoDataset
        assert dataset.num_classes == cfg.num_classes
    assert cfg.test_evaluator.type == 'RobustAccMetric'


def test_training_stops_before_the_first_iteration_on_a_bad_list(
        tiny_dataset, tmp_path):
    ann_file = write_list(tmp_path / 'train.txt',
                          GOOD + ['train/00003.mp4 99', 'train/x.mp4 1'])
    options = data_overrides(tiny_dataset.root) + [
        f'train_dataloader.dataset.ann_file={ann_file}',
        'train_cfg.max_epochs=1'
    ]
    result = call_tool('train', [
        'configs/hman_demo.py', '--work-dir',
        str(tmp_path / 'work'), '--cfg-options'
    ] + options)
    assert result.returncode != 0
    assert 'AnnotationError' in result.stdout
    assert f'{ann_file}: 2 invalid line(s) of 5' in result.stdout
    assert 'line 4:' in result.stdout and 'line 5:' in result.stdout
    assert 'Epoch(train)' not in result.stdout
