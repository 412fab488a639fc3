"""Fixtures for the robustness tests: a tiny real dataset plus broken media
(random bytes, a truncated mp4, a zero-frame mp4, a too-short video)."""
import contextlib
import logging
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger

from tests.helpers import REPO, make_tiny_dataset

BROKEN_KINDS = ('random_bytes', 'truncated', 'zero_frames')


def write_broken_video(path, kind, good_video):
    """A video file that no decoder can turn into a clip."""
    if kind == 'random_bytes':
        with open(path, 'wb') as f:
            f.write(np.random.RandomState(0).bytes(4096))
    elif kind == 'truncated':
        with open(good_video, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
    elif kind == 'zero_frames':
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                                 (32, 32))
        writer.release()
    else:
        raise ValueError(kind)


def write_short_video(path, frames=3):
    from hman_mmaction.datasets.synthetic_actions import write_mp4
    write_mp4(path, np.zeros((frames, 32, 32, 3), np.uint8), 10)


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory):
    """8 train, 4 val, 4 test synthetic videos (read-only: copy to edit)."""
    return make_tiny_dataset(tmp_path_factory.mktemp('synthetic_actions'))


@pytest.fixture
def dirty_dataset(tiny_dataset, tmp_path):
    """A copy of the tiny dataset whose train and test lists also name one
    video of each broken kind (label 1) at the end."""
    root = tmp_path / 'dirty'
    shutil.copytree(tiny_dataset.root, root)
    good = str(root / 'videos' / 'train' / '00000.mp4')
    os.makedirs(root / 'videos' / 'broken')
    for kind in BROKEN_KINDS:
        write_broken_video(
            str(root / 'videos' / 'broken' / f'{kind}.mp4'), kind, good)
    for split in ('train', 'test'):
        with open(root / f'{split}_list_videos.txt', 'a') as f:
            for kind in BROKEN_KINDS:
                f.write(f'broken/{kind}.mp4 1\n')
    return root


@contextlib.contextmanager
def captured_log():
    """Collects the messages logged through mmengine's current logger."""
    records = []

    class Collect(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = Collect(level=logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def run_tool(args, env=None, timeout=600):
    """tests.helpers.run_tool, but undecodable bytes (decoders echo parts of
    broken files) become U+FFFD instead of failing the test."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable] + list(args),
        cwd=REPO,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors='replace',
        timeout=timeout)


def fault_config(hook):
    """The demo config plus a fault-injecting hook (tests/robustness/
    fault_hooks.py); the hooks draw no random numbers."""
    return (f'_base_ = [{osp.join(REPO, "configs", "hman_demo.py")!r}]\n'
            "custom_imports = dict(imports=['hman_mmaction', "
            "'tests.robustness.fault_hooks'], allow_failed_imports=False)\n"
            f"custom_hooks = _base_.custom_hooks + [{hook}]\n")
