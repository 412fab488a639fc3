"""The demo config trains through our tools/train.py, through mmaction2's
own tools/train.py (custom_imports), and under torchrun with 2 CPU
processes, each a command in a fresh interpreter."""
import glob
import os.path as osp

import mmaction

from tests.helpers import free_port, run_tool
from tests.tools.conftest import DEMO, one_epoch

UPSTREAM_TRAIN = osp.join(
    osp.dirname(mmaction.__file__), '.mim', 'tools', 'train.py')


def assert_trained(result, work_dir):
    assert result.returncode == 0, result.stdout[-4000:]
    assert osp.exists(osp.join(work_dir, 'epoch_1.pth')), result.stdout[-2000:]
    assert 'Epoch(val) [1]' in result.stdout


def test_our_train_script_trains_the_demo_config(demo_run):
    work_dir, result = demo_run  # python tools/train.py, one epoch
    assert_trained(result, work_dir)


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
