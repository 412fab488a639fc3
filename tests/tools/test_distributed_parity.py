"""2 processes (torchrun, gloo on CPU) follow the same loss curve as 1
process with the same global batch.

Exact parity needs the parts that differ between the two runs switched
off: per-rank BatchNorm statistics (frozen: norm_eval, as SyncBN has no
CPU kernel), per-rank random streams (deterministic hard-sigmoid boundary,
no dropout, fixed frame sampling), the shuffle order, and the change
feature ``map_diff``: the gradient of ``|a_t - a_{t-1}|`` flips sign with
the rounding of a difference near 0 (a batch of 4 and two of 2 round
differently), and AdamW turns such flips into weight changes of the
learning rate's size (measured: losses equal to 1e-6, backbone weights
apart by up to 2.4e-3 with it; equal without). The change-peak targets'
threshold is a quantile over every rank's batch
(``hman_mmaction.models.change_features.all_ranks``): without it the two
runs' losses differ from the first epoch."""
import json
import os.path as osp

import torch

from tests.helpers import REPO, call_tool, data_overrides, free_port, run_tool

BASE = osp.join(REPO, 'configs', 'demo', 'ablations',
                'hman-hardsigmoid-bnd_demo.py')
RECORDING = f'''_base_ = [{BASE!r}]
custom_imports = dict(
    imports=['hman_mmaction', 'tests.support.loss_recorder'],
    allow_failed_imports=False)
custom_hooks = [dict(type='GumbelTemperatureHook'),
                dict(type='GlobalLossRecorder')]
'''


def options(dataset, per_rank_batch):
    return [
        '--no-validate', '--cfg-options', 'train_cfg.max_epochs=2',
        'model.cls_head.dropout_ratio=0', 'model.backbone.norm_eval=True',
        "model.cls_head.change_features=['map_change','pred_error']",
        'train_dataloader.dataset.pipeline.1.test_mode=True',
        'train_dataloader.sampler.shuffle=False',
        'default_hooks.checkpoint.save_best=None'
    ] + data_overrides(
        dataset.root,
        batch_size=4) + [f'train_dataloader.batch_size={per_rank_batch}']


def test_two_processes_match_one_process_with_the_same_global_batch(
        tiny_dataset, tmp_path):
    env = dict(PYTHONPATH=REPO)
    CONFIG = str(tmp_path / 'recording.py')
    (tmp_path / 'recording.py').write_text(RECORDING)
    single = call_tool(  # in this process; torchrun below starts two
        'train',
        [CONFIG, '--work-dir', str(tmp_path / 'one')] +
        options(tiny_dataset, 4))
    assert single.returncode == 0, single.stdout[-4000:]
    double = run_tool(
        [
            '-m', 'torch.distributed.run', '--nproc_per_node=2',
            f'--master_port={free_port()}', 'tools/train.py', CONFIG,
            '--launcher', 'pytorch', '--work-dir',
            str(tmp_path / 'two')
        ] + options(tiny_dataset, 2),
        env=env)
    assert double.returncode == 0, double.stdout[-4000:]

    one = json.loads((tmp_path / 'one' / 'global_loss.json').read_text())
    two = json.loads((tmp_path / 'two' / 'global_loss.json').read_text())
    assert len(one) == len(two) == 4  # 8 videos / global batch 4, 2 epochs
    assert torch.allclose(
        torch.tensor(one), torch.tensor(two), rtol=1e-4, atol=1e-5), (one, two)
    assert one[-1] != one[0]  # the model did train

    weights = [
        torch.load(tmp_path / run / 'epoch_2.pth',
                   weights_only=True)['state_dict'] for run in ('one', 'two')
    ]
    for key, value in weights[0].items():
        assert torch.allclose(
            value.float(), weights[1][key].float(), rtol=1e-3, atol=1e-5), key
