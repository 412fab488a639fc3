"""Exact resume after an interruption at an epoch checkpoint, with
per-epoch validation on and the configs' data workers (issue 14, item 7).

Validation runs after the epoch checkpoint; the resumed run must train the
next epoch on exactly the batches, augmentations and random draws of the
uninterrupted run. Persistent training workers keep a random state that is
not in the checkpoint: the configs restart them every epoch, and a resume
with persistent workers says that it cannot be exact."""
import glob
import json
import os.path as osp
import shutil

from mmengine.config import Config
from mmengine.runner import Runner

from hman_mmaction.datasets.synthetic_actions import config_overrides
from tests.helpers import REPO, call_tool, data_overrides
from tests.robustness.conftest import captured_log

DEMO = 'configs/hman_demo.py'
ITERS_PER_EPOCH = 4  # 8 train videos, batch 2


def train(root, work_dir, epochs, resume=False):
    options = data_overrides(
        root, batch_size=2) + [
            f'train_cfg.max_epochs={epochs}',
            'default_hooks.logger.interval=1', 'log_processor.window_size=1',
            'randomness.seed=0'
        ]
    result = call_tool('train',
                       [DEMO, '--work-dir', str(work_dir)] +
                       (['--resume'] if resume else []) + ['--cfg-options'] +
                       options)
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


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


def test_config_default_workers_resume_exactly_after_validation(
        tiny_dataset, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, DEMO))
    assert cfg.train_dataloader.num_workers > 0  # workers included
    assert cfg.train_cfg.val_interval == 1  # validation after epoch 1
    log = train(tiny_dataset.root, tmp_path / 'reference', 2)
    assert 'Epoch(val) [1]' in log  # validation ran after the checkpoint
    reference = losses(tmp_path / 'reference')
    # interrupted right after the epoch-1 checkpoint: a work dir holding
    # only that checkpoint, saved before the validation of epoch 1
    interrupted = tmp_path / 'interrupted'
    interrupted.mkdir()
    shutil.copy(tmp_path / 'reference' / 'epoch_1.pth', interrupted)
    (interrupted /
     'last_checkpoint').write_text(str(interrupted / 'epoch_1.pth'))
    log = train(tiny_dataset.root, interrupted, 2, resume=True)
    assert 'resumed epoch: 1' in log
    assert 'Resuming with train_dataloader.persistent_workers' not in log
    resumed = losses(interrupted)
    after = range(ITERS_PER_EPOCH + 1, 2 * ITERS_PER_EPOCH + 1)
    assert [resumed[i] for i in after] == [reference[i] for i in after]


def test_resume_with_persistent_train_workers_says_it_is_not_exact(
        tiny_dataset, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, DEMO))
    cfg.merge_from_dict(
        dict(o.split('=', 1) for o in config_overrides(tiny_dataset.root)))
    cfg.train_dataloader.persistent_workers = True
    cfg.work_dir = str(tmp_path)
    cfg.resume = True
    runner = Runner.from_cfg(cfg)  # ExactResumeHook: the configs' runtime
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    with captured_log() as log:
        runner.call_hook('before_run')  # what train() does before loading
    assert any(
        'persistent_workers=True' in line and 'not in the checkpoint' in line
        for line in log)
