"""A killed extraction resumes without duplicating or losing clips, and
ends byte-for-byte equal to an uninterrupted one."""
import json
import os.path as osp
import shutil

import numpy as np
import pytest

from hman_mmaction.features import (CachedFeatureDataset, FeatureStore,
                                    IncompleteStoreError, extract_features)
from tests.features.conftest import demo_config
from tests.helpers import run_python

KILLED = '''
import os, signal
import hman_mmaction
from mmengine.config import Config
from hman_mmaction.features import extract_features
from hman_mmaction.features.store import FeatureStore

commit = FeatureStore.commit
calls = []

def commit_then_die(self, split, array, complete, frame_inds=None,
                    geometry=None):
    calls.append(complete)
    if len(calls) == 3:  # batch 3 is in the memmap but not yet committed
        array.flush()
        frame_inds.flush()
        geometry.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    commit(self, split, array, complete, frame_inds, geometry)

FeatureStore.commit = commit_then_die
cfg = Config.fromfile({config!r})
extract_features(cfg, {checkpoint!r}, {out!r}, splits=['train'], views=2,
                 batch_size=2, progress=False)
'''


def extract(cfg, checkpoint, out, **kwargs):
    return extract_features(
        cfg,
        checkpoint,
        out,
        splits=['train'],
        views=2,
        batch_size=2,
        progress=False,
        **kwargs)


def manifest(out):
    with open(osp.join(out, 'manifest.json')) as f:
        return json.load(f)


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


@pytest.fixture(scope='module')
def whole(tiny_videos, demo_checkpoint, tmp_path_factory):
    """The train split extracted without interruption."""
    out = str(tmp_path_factory.mktemp('whole') / 'store')
    extract(demo_config(tiny_videos.root), demo_checkpoint, out)
    return out


def test_sigkill_mid_extraction_resumes_to_identical_bytes(
        tiny_videos, demo_checkpoint, whole, tmp_path):
    cfg = demo_config(tiny_videos.root)
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    killed = str(tmp_path / 'killed')

    result = run_python(
        KILLED.format(config=config, checkpoint=demo_checkpoint, out=killed))
    assert result.returncode == -9, result.stderr[-3000:]
    assert manifest(killed)['splits']['train']['complete'] == 4  # 2 batches
    with pytest.raises(IncompleteStoreError, match='rerun'):
        CachedFeatureDataset(killed, 'train')

    commits = []
    extract(
        cfg,
        demo_checkpoint,
        killed,
        on_commit=lambda done, total: commits.append(done))
    assert commits == [6, 8, 10, 12, 14, 16]  # resumed at clip 4, in order
    assert read_bytes(osp.join(killed, 'train.npy')) == read_bytes(
        osp.join(whole, 'train.npy'))
    for name in ('train_frame_inds.npy', 'train_box_geometry.npy'):
        assert read_bytes(osp.join(killed,
                                   name)) == read_bytes(osp.join(whole,
                                                                 name)), name
    assert manifest(killed)['splits'] == manifest(whole)['splits']
    assert len(CachedFeatureDataset(killed, 'train')) == 8


def test_exception_at_a_clip_then_rerun_completes_the_same_records(
        tiny_videos, demo_checkpoint, whole, tmp_path):
    cfg = demo_config(tiny_videos.root)
    broken = str(tmp_path / 'broken')

    def fail_at_clip_10(done, total):
        if done >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract(cfg, demo_checkpoint, broken, on_commit=fail_at_clip_10)
    assert manifest(broken)['splits']['train']['complete'] == 10
    extract(cfg, demo_checkpoint, broken)
    a = FeatureStore(broken).open_split('train')
    b = FeatureStore(whole).open_split('train')
    assert a.shape == b.shape == (16, 8, 128, 4, 4)
    assert np.array_equal(a, b)
    # the two stored views of a video are different samplings
    assert not np.array_equal(a[0], a[1])


def test_stand_in_for_an_unreadable_video_is_not_cached(
        tiny_videos, demo_checkpoint, tmp_path):
    root = tmp_path / 'videos'
    shutil.copytree(tiny_videos.root, root)
    with open(root / 'train_list_videos.txt') as f:
        broken = f.readline().split()[0]
    (root / 'videos' / broken).write_bytes(b'not an mp4' * 100)
    cfg = demo_config(str(root))
    cfg.train_dataloader.dataset.update(
        type='CheckedVideoDataset', skip_broken_videos=True)
    with pytest.raises(RuntimeError, match='stand-in sample for video 0'):
        extract(cfg, demo_checkpoint, str(tmp_path / 'store'))
