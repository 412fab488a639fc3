"""A worker that raises makes a 2-process CPU (gloo) job exit non-zero in
bounded time instead of hanging the other rank."""
import os

from tests.helpers import REPO, data_overrides, free_port
from tests.robustness.conftest import fault_config, run_tool


def test_a_failing_rank_ends_the_whole_job_with_an_error(
        tiny_dataset, tmp_path):
    config = tmp_path / 'raise_config.py'
    config.write_text(
        fault_config('dict(type="RaiseOnRankHook", rank=1, '
                     'at=2)'))
    result = run_tool(
        [
            '-m', 'torch.distributed.run', '--nproc_per_node=2',
            f'--master_port={free_port()}', 'tools/train.py',
            str(config), '--launcher', 'pytorch', '--work-dir',
            str(tmp_path / 'work'), '--cfg-options', 'train_cfg.max_epochs=2',
            'default_hooks.logger.interval=1'
        ] + data_overrides(tiny_dataset.root, batch_size=2),
        env=dict(PYTHONPATH=REPO),
        timeout=240)  # hanging -> TimeoutExpired
    assert result.returncode != 0
    assert 'injected failure on rank 1 at iteration 2' in result.stdout
    assert 'Epoch(train) [2]' not in result.stdout
    assert os.path.isdir(tmp_path / 'work')
