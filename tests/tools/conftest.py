import os.path as osp
import shutil

import pytest

from tests.helpers import data_overrides, make_tiny_dataset, run_tool

DEMO = 'configs/hman_demo.py'


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory):
    """8 train, 4 val, 4 test synthetic videos shared by the tool tests."""
    return make_tiny_dataset(tmp_path_factory.mktemp('synthetic_actions'))


def one_epoch(dataset, work_dir):
    """Flags of a one-epoch run on ``dataset``, logging every iteration."""
    return [
        '--work-dir',
        str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1'
    ] + data_overrides(dataset.root)


@pytest.fixture(scope='session')
def demo_run(tiny_dataset, tmp_path_factory):
    """``(work dir, CompletedProcess)`` of one epoch of the demo config
    through ``python tools/train.py`` (a fresh interpreter), shared by the
    tests that check that run, continue it or test its checkpoint.
    Read-only: :func:`copy_run` before continuing it."""
    work_dir = tmp_path_factory.mktemp('hman_demo_epoch_1')
    result = run_tool(['tools/train.py', DEMO] +
                      one_epoch(tiny_dataset, work_dir))
    return work_dir, result


def copy_run(work_dir, to):
    """A copy of a work dir whose ``last_checkpoint`` names the copy's
    checkpoint (it holds an absolute path)."""
    shutil.copytree(work_dir, to, dirs_exist_ok=True)
    last = to / 'last_checkpoint'
    last.write_text(str(to / osp.basename(last.read_text().strip())))
    return to
