"""Where a user trips on the ecosystem (issue 14, item 10), and the
robustness document matches the code and the tests."""
import argparse
import os.path as osp
import re
import shutil

import pytest
from mmaction.registry import DATASETS
from mmengine.config import DictAction

from hman_mmaction.datasets import AnnotationError
from tests.helpers import REPO

DOC = osp.join(REPO, 'docs', 'robustness.md')


def read_doc():
    with open(DOC, encoding='utf-8') as f:
        return f.read()


def test_cfg_options_drop_spaces_and_the_doc_says_what_to_do_instead():
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(
        ['--cfg-options', 'train_dataloader.dataset.ann_file=/d/my list.txt'])
    value = args.cfg_options['train_dataloader.dataset.ann_file']
    assert value == '/d/mylist.txt'  # mmengine's behaviour, documented:
    doc = read_doc()
    assert '`--cfg-options` drops spaces from values' in doc
    assert 'config file' in doc and "delimiter='\\t'" in doc


def test_a_path_with_spaces_loads_from_a_tab_separated_list(
        tiny_dataset, tmp_path):
    videos = tmp_path / 'my videos'
    videos.mkdir()
    shutil.copy(
        osp.join(tiny_dataset.root, 'videos', 'train', '00000.mp4'),
        videos / 'clip one.mp4')
    spaced = tmp_path / 'spaces.txt'
    spaced.write_text('clip one.mp4 3\n')
    cfg = dict(
        type='CheckedVideoDataset',
        data_prefix=dict(video=str(videos)),
        pipeline=[],
        num_classes=12)
    with pytest.raises(AnnotationError, match=r"delimiter='\\t'"):
        DATASETS.build(dict(cfg, ann_file=str(spaced)))
    tabbed = tmp_path / 'tabs.txt'
    tabbed.write_text('clip one.mp4\t3\n')
    dataset = DATASETS.build(dict(cfg, ann_file=str(tabbed), delimiter='\t'))
    assert dataset.get_data_info(0)['filename'].endswith('clip one.mp4')
    assert dataset.get_data_info(0)['label'] == 3


def test_the_robustness_doc_names_only_existing_tests_and_modules():
    doc = read_doc()
    named = set(
        re.findall(
            r'`((?:tests|hman_mmaction|configs|tools)/'
            r'[\w/.-]+\.(?:py|md))`', doc))
    assert len(named) > 10
    missing = [p for p in named if not osp.exists(osp.join(REPO, p))]
    assert not missing, missing
    for item in ('FitFrameSize', 'config_checks', 'view_check',
                 'CheckpointMismatchError', 'hman_mmaction_imports.pth',
                 'check_videos.py', 'MissingAnnotationFileError',
                 'persistent_workers=False', 'backward(inputs=...)', 'aspect',
                 'analyze_logs.py'):
        assert item in doc, item
