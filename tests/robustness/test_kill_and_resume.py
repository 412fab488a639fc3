"""A training killed with SIGKILL mid-epoch resumes (``--resume``) to the
very same losses as an uninterrupted run, also when the newest checkpoint
was cut short, and never trusts a checkpoint it cannot read.

The killed run is ``python tools/train.py`` in its own process; the
uninterrupted and the resumed runs call the tool's ``main(argv)`` here."""
import glob
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.helpers import REPO, call_tool, data_overrides
from tests.robustness.conftest import fault_config

DEMO = 'configs/hman_demo.py'
ITERS_PER_EPOCH = 4  # 8 train videos, batch 2
MAX_EPOCHS = 2
KILL_AFTER = 7  # iterations; checkpoints every 2 -> iter_6 is the latest


def options(root, extra=()):
    """Seeded, deterministic, every loss logged raw, a checkpoint every 2
    iterations (mid-epoch), validation every epoch."""
    return data_overrides(
        root, batch_size=2) + [
            f'train_cfg.max_epochs={MAX_EPOCHS}',
            'default_hooks.logger.interval=1', 'log_processor.window_size=1',
            'default_hooks.checkpoint.interval=2',
            'default_hooks.checkpoint.by_epoch=False',
            'default_hooks.checkpoint.max_keep_ckpts=-1',
            'default_hooks.checkpoint.save_best=None', 'randomness.seed=0',
            'randomness.deterministic=True'
        ] + list(extra)


def train_args(root, work_dir, extra=(), resume=False, config=DEMO):
    return (['tools/train.py', config, '--work-dir',
             str(work_dir)] + (['--resume'] if resume else []) +
            ['--cfg-options'] + options(root, extra))


def train_here(root, work_dir, resume=False):
    """``tools/train.py``'s ``main(argv)`` in this process; the
    process-wide switches of ``randomness.deterministic`` are put back."""
    switches = (torch.are_deterministic_algorithms_enabled(),
                torch.backends.cudnn.deterministic,
                torch.backends.cudnn.benchmark)
    try:
        return call_tool('train',
                         train_args(root, work_dir, resume=resume)[1:])
    finally:
        torch.use_deterministic_algorithms(switches[0])
        (torch.backends.cudnn.deterministic,
         torch.backends.cudnn.benchmark) = switches[1:]


def losses(work_dir):
    """``{iteration: loss}`` from every json log in the work dir (a resumed
    run writes a new one; a later value for an iteration wins)."""
    found = {}
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'loss' in entry:
                    found[entry['iter']] = entry['loss']
    return found


@pytest.fixture(scope='module')
def reference(tiny_dataset, tmp_path_factory):
    """Losses of an uninterrupted run."""
    work_dir = tmp_path_factory.mktemp('uninterrupted')
    result = train_here(tiny_dataset.root, work_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    found = losses(work_dir)
    assert sorted(found) == list(range(1, MAX_EPOCHS * ITERS_PER_EPOCH + 1))
    return found


@pytest.fixture(scope='module')
def killed(tiny_dataset, tmp_path_factory):
    """A work dir of a run SIGKILLed after iteration 7 (mid epoch 2)."""
    work_dir = tmp_path_factory.mktemp('killed')
    flag = work_dir / 'paused'
    config = work_dir / 'pause_config.py'
    config.write_text(
        fault_config(f'dict(type="PauseAtIterHook", '
                     f'at={KILL_AFTER}, flag_file="{flag}")'))
    env = dict(os.environ, PYTHONPATH=REPO)
    output = open(work_dir / 'output.txt', 'w')
    process = subprocess.Popen(
        [sys.executable] +
        train_args(tiny_dataset.root, work_dir, config=str(config)),
        cwd=REPO,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            if flag.exists() or process.poll() is not None:
                break
            time.sleep(0.5)
        assert flag.exists(), (work_dir / 'output.txt').read_text()[-3000:]
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        output.close()
    assert (work_dir /
            'last_checkpoint').read_text().strip().endswith('iter_6.pth')
    assert not osp.exists(work_dir / f'iter_{KILL_AFTER + 1}.pth')
    return work_dir


def resume(root, killed, tmp_path):
    work_dir = tmp_path / 'work'
    shutil.copytree(killed, work_dir)
    last = work_dir / 'last_checkpoint'  # holds an absolute path
    last.write_text(str(work_dir / osp.basename(last.read_text().strip())))
    result = train_here(root, work_dir, resume=True)
    return work_dir, result


def test_killed_run_resumes_to_exactly_the_uninterrupted_losses(
        tiny_dataset, reference, killed, tmp_path):
    work_dir, result = resume(tiny_dataset.root, killed, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'resumed epoch: 1, iter: 6' in result.stdout
    resumed = losses(work_dir)
    assert sorted(resumed) == sorted(reference)
    after = range(7, MAX_EPOCHS * ITERS_PER_EPOCH + 1)
    assert [resumed[i] for i in after] == [reference[i] for i in after]


def test_a_truncated_latest_checkpoint_falls_back_to_the_previous_one(
        tiny_dataset, reference, killed, tmp_path):
    source = killed / 'iter_6.pth'
    size = osp.getsize(source)
    broken = tmp_path / 'killed'
    shutil.copytree(killed, broken)
    with open(broken / 'iter_6.pth', 'r+b') as f:
        f.truncate(size // 2)  # as if the kill had hit torch.save
    work_dir, result = resume(tiny_dataset.root, broken, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'Cannot resume from' in result.stdout
    assert 'iter_6.pth' in result.stdout
    # iter_4 was saved after the last iteration of epoch 1
    assert 'resumed epoch: 0, iter: 4' in result.stdout
    resumed = losses(work_dir)
    after = range(5, MAX_EPOCHS * ITERS_PER_EPOCH + 1)
    assert [resumed[i] for i in after] == [reference[i] for i in after]
