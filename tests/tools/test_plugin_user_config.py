"""A plugin user's own config gets every guarantee (issue 34).

The minimal config of docs/get_started.md (its fenced block after
``<!-- minimal-plugin-config -->``, extracted here so the two cannot drift)
is written into a temporary folder outside the repository and run with
mmaction2's own ``tools/train.py`` / ``tools/test.py`` from the wheel, in
fresh interpreters: each refusal (checkpoint of other sizes, another step
count, a label out of range, an unwritable ``--dump`` / ``--work-dir``)
stops the run with a message naming the fix, and a run killed mid-epoch
resumes with ``--resume`` to the losses of the uninterrupted run."""
import glob
import json
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import sys
import time

import mmaction
import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config

from tests.helpers import REPO, make_tiny_dataset

TOOLS = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools')
MARK = '<!-- minimal-plugin-config -->'
ITERS_PER_EPOCH = 4  # 8 train videos, batch 2
KILL_AFTER = 7  # mid epoch 2; checkpoints every 2 iterations
LOADS = 'Loads checkpoint'  # mmengine's line when it reads a checkpoint
HOOKS_LINE = ("custom_hooks = [dict(type='ExactResumeHook'), "
              "dict(type='RunChecksHook')]\n")


def documented_config() -> str:
    text = open(osp.join(REPO, 'docs', 'get_started.md')).read()
    block = re.search(re.escape(MARK) + r'\n```python\n(.*?)```', text, re.S)
    assert block, (f'docs/get_started.md has no ```python block after {MARK}')
    return block.group(1)


@pytest.fixture(scope='module')
def user(tmp_path_factory):
    """A folder outside the repository: the documented config as
    ``my_hman.py`` and ``data/synthetic_actions`` (tiny generated
    videos), as a user following docs/get_started.md has them."""
    folder = tmp_path_factory.mktemp('plugin_user')
    assert not str(folder).startswith(REPO)
    (folder / 'my_hman.py').write_text(documented_config())
    make_tiny_dataset(folder / 'data' / 'synthetic_actions')
    return folder


def upstream(tool, args, cwd, timeout=600):
    """``python <mmaction wheel>/tools/<tool> args`` in a new interpreter
    (``tests.robustness.fault_hooks`` importable for the kill)."""
    env = dict(os.environ, PYTHONPATH=REPO, PYTHONWARNINGS='ignore')
    env.pop('HMAN_COMPAT_DISABLE', None)
    return subprocess.run(
        [sys.executable, osp.join(TOOLS, tool)] + args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors='replace',
        timeout=timeout)


TRAIN_OPTIONS = [
    '--seed', '0', '--deterministic', '--cfg-options',
    'default_hooks.logger.interval=1', 'log_processor.window_size=1',
    'default_hooks.checkpoint.interval=2',
    'default_hooks.checkpoint.by_epoch=False',
    'default_hooks.checkpoint.max_keep_ckpts=-1',
    'default_hooks.checkpoint.save_best=None'
]


def losses(work_dir):
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
def reference(user):
    """The uninterrupted run: ``{iteration: loss}`` and its work dir."""
    work_dir = user / 'reference'
    result = upstream(
        'train.py',
        ['my_hman.py', '--work-dir', str(work_dir)] + TRAIN_OPTIONS, user)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'resume will not be exact' not in result.stdout
    found = losses(work_dir)
    assert sorted(found) == list(range(1, 2 * ITERS_PER_EPOCH + 1))
    return found, work_dir


def test_killed_mid_epoch_resume_gives_the_uninterrupted_losses(
        user, reference):
    work_dir = user / 'killed'
    work_dir.mkdir()
    flag = work_dir / 'paused'
    (user / 'paused.py').write_text(
        "_base_ = ['my_hman.py']\n"
        "custom_imports = dict(imports=['hman_mmaction', "
        "'tests.robustness.fault_hooks'], allow_failed_imports=False)\n"
        'custom_hooks = _base_.custom_hooks + [dict(type="PauseAtIterHook", '
        f'at={KILL_AFTER}, flag_file="{flag}")]\n')
    env = dict(os.environ, PYTHONPATH=REPO, PYTHONWARNINGS='ignore')
    with open(work_dir / 'output.txt', 'w') as output:
        process = subprocess.Popen(
            [
                sys.executable,
                osp.join(TOOLS, 'train.py'), 'paused.py', '--work-dir',
                str(work_dir)
            ] + TRAIN_OPTIONS,
            cwd=user,
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
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert (work_dir / 'last_checkpoint'
            ).read_text().strip().endswith(f'iter_{KILL_AFTER - 1}.pth')
    result = upstream('train.py',
                      ['my_hman.py', '--work-dir',
                       str(work_dir), '--resume'] + TRAIN_OPTIONS, user)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'skipping those batches' in result.stdout
    resumed, expected = losses(work_dir), reference[0]
    after = range(KILL_AFTER, 2 * ITERS_PER_EPOCH + 1)
    assert [resumed[i] for i in after] == [expected[i] for i in after]


def test_a_checkpoint_of_another_hidden_size_is_refused_naming_both(
        user, tmp_path):
    cfg = Config.fromfile(str(user / 'my_hman.py'))
    cfg.model.cls_head.rnn.hidden_size = 16
    checkpoint = tmp_path / 'hidden16.pth'
    torch.save(
        dict(state_dict=MODELS.build(cfg.model).state_dict(), meta={}),
        checkpoint)
    result = upstream(
        'test.py',
        ['my_hman.py',
         str(checkpoint), '--work-dir',
         str(tmp_path / 'work')], user)
    assert result.returncode != 0
    assert 'acc/top1' not in result.stdout
    assert 'cls_head.rnn.hidden_size: checkpoint 16, this head 32' in \
        result.stdout
    assert 'model.cls_head.rnn.hidden_size=16' in result.stdout  # the fix


def test_a_16_frame_test_pipeline_on_an_8_step_head_is_refused(
        user, reference, tmp_path):
    checkpoint = osp.join(reference[1], f'iter_{2 * ITERS_PER_EPOCH}.pth')
    result = upstream('test.py', [
        'my_hman.py', checkpoint, '--work-dir',
        str(tmp_path), '--cfg-options',
        'test_dataloader.dataset.pipeline.1.num_clips=16'
    ], user)
    assert result.returncode != 0
    assert 'acc/top1' not in result.stdout
    assert '16 frames' in result.stdout and 'num_segments=8' in result.stdout
    assert 'num_clips=8' in result.stdout  # the fix
    assert LOADS not in result.stdout  # before the checkpoint


def test_a_label_out_of_range_names_file_line_and_fix(user, tmp_path):
    data = tmp_path / 'data' / 'synthetic_actions'
    shutil.copytree(user / 'data' / 'synthetic_actions', data)
    ann_file = data / 'train_list_videos.txt'
    lines = ann_file.read_text().splitlines()
    lines[2] = lines[2].rsplit(' ', 1)[0] + ' 12'  # 12 classes: 0..11
    ann_file.write_text('\n'.join(lines) + '\n')
    shutil.copy(user / 'my_hman.py', tmp_path)
    result = upstream('train.py', ['my_hman.py', '--work-dir', 'work'],
                      tmp_path)
    assert result.returncode != 0
    assert 'Target 12 is out of bounds' not in result.stdout
    assert 'train_list_videos.txt, line 3' in result.stdout
    assert 'model.cls_head.num_classes=13' in result.stdout
    assert 'loss' not in ''.join(line for line in result.stdout.splitlines()
                                 if 'Epoch(train)' in line)


def test_an_unwritable_dump_is_refused_before_the_checkpoint_loads(
        user, reference, tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    checkpoint = osp.join(reference[1], f'iter_{2 * ITERS_PER_EPOCH}.pth')
    result = upstream('test.py', [
        'my_hman.py', checkpoint, '--work-dir',
        str(tmp_path / 'work'), '--dump',
        str(blocker / 'predictions.pkl')
    ], user)
    assert result.returncode != 0
    assert '--dump' in result.stdout and 'choose a path' in result.stdout
    assert LOADS not in result.stdout and 'acc/top1' not in result.stdout


def test_an_unwritable_work_dir_fails_before_the_checkpoint_loads(
        user, reference, tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    checkpoint = osp.join(reference[1], f'iter_{2 * ITERS_PER_EPOCH}.pth')
    result = upstream(
        'test.py',
        ['my_hman.py', checkpoint, '--work-dir',
         str(blocker / 'work')], user)
    assert result.returncode != 0
    assert str(blocker) in result.stdout  # mmengine names the path
    assert LOADS not in result.stdout and 'acc/top1' not in result.stdout


def test_the_documented_config_tests_its_own_checkpoint(
        user, reference, tmp_path):
    checkpoint = osp.join(reference[1], f'iter_{2 * ITERS_PER_EPOCH}.pth')
    result = upstream('test.py', [
        'my_hman.py', checkpoint, '--work-dir',
        str(tmp_path), '--dump',
        str(tmp_path / 'predictions.pkl')
    ], user)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'acc/top1' in result.stdout
    assert (tmp_path / 'predictions.pkl').exists()


def test_without_the_hooks_one_line_says_what_to_add(user, tmp_path):
    text = documented_config()
    assert HOOKS_LINE in text
    (tmp_path / 'my_hman.py').write_text(text.replace(HOOKS_LINE, ''))
    os.symlink(user / 'data', tmp_path / 'data')
    result = upstream('train.py', [
        'my_hman.py', '--work-dir', 'work', '--cfg-options',
        'train_cfg.max_epochs=1', 'val_cfg=None', 'val_dataloader=None',
        'val_evaluator=None'
    ], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    notes = [
        line for line in result.stdout.splitlines()
        if 'resume will not be exact' in line
    ]
    assert len(notes) == 1
    assert "custom_hooks = [dict(type='ExactResumeHook'), " \
        "dict(type='RunChecksHook')]" in notes[0]


def test_video_dataset_stays_mmaction2s_own_class():
    from mmaction.datasets import VideoDataset

    import hman_mmaction  # noqa: F401
    from hman_mmaction.datasets import CheckedVideoDataset
    assert DATASETS.get('VideoDataset') is VideoDataset
    assert DATASETS.get('CheckedVideoDataset') is CheckedVideoDataset
    dataset = DATASETS.build(
        dict(
            type='VideoDataset',
            ann_file='missing.txt',
            pipeline=[],
            lazy_init=True))
    assert type(dataset) is VideoDataset
