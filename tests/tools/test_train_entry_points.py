"""The demo config trains through our tools/train.py, through mmaction2's
own tools/train.py (custom_imports), and under torchrun with 2 CPU
processes."""
import glob
import os.path as osp

import mmaction

from tests.helpers import data_overrides, free_port, run_tool

DEMO = 'configs/hman_demo.py'
UPSTREAM_TRAIN = osp.join(
    osp.dirname(mmaction.__file__), '.mim', 'tools', 'train.py')


def one_epoch(dataset, work_dir):
    return [
        '--work-dir',
        str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1'
    ] + data_overrides(dataset.root)


def assert_trained(result, work_dir):
    assert result.returncode == 0, result.stdout[-4000:]
    assert osp.exists(osp.join(work_dir, 'epoch_1.pth')), result.stdout[-2000:]
    assert 'Epoch(val) [1]' in result.stdout


def test_our_train_script_trains_the_demo_config(tiny_dataset, tmp_path):
    result = run_tool(['tools/train.py', DEMO] +
                      one_epoch(tiny_dataset, tmp_path))
    assert_trained(result, tmp_path)


def test_upstream_mmaction_train_script_trains_our_config(
        tiny_dataset, tmp_path):
    assert osp.exists(UPSTREAM_TRAIN)
    result = run_tool([UPSTREAM_TRAIN, DEMO] +
                      one_epoch(tiny_dataset, tmp_path))
    assert_trained(result, tmp_path)
    assert 'HMANHead' in result.stdout  # the config dump names our head


def test_torchrun_with_two_cpu_processes_trains_to_completion(
        tiny_dataset, tmp_path):
    result = run_tool([
        '-m', 'torch.distributed.run', '--nproc_per_node=2',
        f'--master_port={free_port()}', 'tools/train.py', DEMO, '--launcher',
        'pytorch'
    ] + one_epoch(tiny_dataset, tmp_path) + ['train_dataloader.batch_size=2'])
    assert_trained(result, tmp_path)
    assert 'world_size: 2' in result.stdout or 'Distributed training: True' \
        in result.stdout
    logs = glob.glob(str(tmp_path / '*' / '*.log'))
    assert logs, 'rank 0 wrote no log'
