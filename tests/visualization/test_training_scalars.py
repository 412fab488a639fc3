"""The HM-AN diagnostics reach mmengine's logs, mmaction2's inference API
works on our configs and checkpoints, and the commented TensorBoard block of
configs/_base_/default_runtime.py builds."""
import glob
import json
import math
import os.path as osp
import re

import pytest
import torch
from mmaction.registry import VISBACKENDS, VISUALIZERS
from mmengine.config import Config

from tests.helpers import REPO, call_tool, data_overrides, make_tiny_dataset
from .conftest import HARD

pytestmark = pytest.mark.slow  # a one-epoch training run

# the top layer has no boundary detector (Chung et al.): layer 1's only
DIAGNOSTICS = ('att_entropy', 'tau_att', 'bnd_rate_l1', 'tau_bnd_l1')


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """One epoch of the hard-attention demo config (adaptive temperatures
    on attention and boundaries) on 8 tiny videos, logging every iter."""
    data = make_tiny_dataset(
        tmp_path_factory.mktemp('data'), train=8, val=4, test=0)
    work_dir = tmp_path_factory.mktemp('run')
    result = call_tool('train', [
        HARD, '--work-dir',
        str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1'
    ] + data_overrides(data.root))
    assert result.returncode == 0, result.stdout[-4000:]
    return work_dir, data


def test_diagnostics_are_logged_as_scalars_during_training(tiny_run):
    work_dir, _ = tiny_run
    found = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert found, 'mmengine wrote no scalars.json'
    with open(found[0]) as f:
        train = [json.loads(line) for line in f if '"loss"' in line]
    assert len(train) == 2  # 8 videos, batch 4, logger interval 1
    K = 4 * 4  # 32 px input, ResNet stride 8 -> 4x4 cells
    for entry in train:
        assert set(DIAGNOSTICS) <= set(entry), sorted(entry)
        assert 0 <= entry['att_entropy'] <= math.log(K) + 1e-4
        assert 0 <= entry['bnd_rate_l1'] <= 1
        assert 0 < entry['tau_bnd_l1'] <= 1.0 + 1e-6
        assert 0 < entry['tau_att'] <= 1.0 + 1e-6
    # not summed into the loss: only loss_* keys are (loss_cls, loss_boundary)
    assert all(entry['loss'] == pytest.approx(
        sum(v for k, v in entry.items() if k.startswith('loss_')), abs=1e-3)
               for entry in train)
    log = glob.glob(osp.join(work_dir, '*', '*.log'))[0]
    with open(log) as f:
        text = f.read()
    for key in DIAGNOSTICS:
        assert re.search(rf'Epoch\(train\).* {key}: [0-9.]+', text), key


def test_mmaction_inference_api_loads_a_runner_checkpoint(tiny_run):
    from mmaction.apis import inference_recognizer, init_recognizer

    from hman_mmaction.apis import inference_hman
    work_dir, data = tiny_run
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    # a Runner checkpoint pickles the message hub: torch.load(weights_only)
    # needs the plugin's allow-list, which init_recognizer goes through
    assert 'message_hub' in torch.load(checkpoint, weights_only=True)
    model = init_recognizer(HARD, checkpoint, device='cpu')
    video = osp.join(data.video_root, 'val', '00000.mp4')
    plain = inference_recognizer(model, video)  # the config's test pipeline
    assert plain.pred_score.shape == (12, )
    assert 'attention_map' not in plain
    sample = inference_hman(model, video)
    assert sample.attention_map.shape == (8, 4, 4)
    assert sample.boundaries.shape == (2, 8)
    assert sample.step_scores.shape == (8, 12)
    assert sample.tau_attention.shape == (8, )
    assert len(sample.metainfo['frame_inds']) == 8
    assert not model.cls_head.test_cfg.get('return_extras', False)
    with pytest.raises(FileNotFoundError, match='video not found'):
        inference_hman(model, video + '.missing')


def test_commented_tensorboard_block_of_the_runtime_builds():
    path = osp.join(REPO, 'configs', '_base_', 'default_runtime.py')
    with open(path) as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith('# visualizer = dict('))
    block = []
    for line in lines[start:]:
        if not line.startswith('#'):
            break
        block.append(line[2:])
    namespace = {}
    exec('\n'.join(block), {'dict': dict}, namespace)
    visualizer = namespace['visualizer']
    assert VISUALIZERS.get(visualizer['type']) is not None
    for backend in visualizer['vis_backends']:
        assert VISBACKENDS.get(backend['type']) is not None, backend
    # with the block uncommented, the config still loads and keeps it
    cfg = Config.fromstring('\n'.join(lines[:start] + block), '.py')
    assert cfg.visualizer['type'] == 'ActionVisualizer'
    assert [b['type'] for b in cfg.visualizer['vis_backends']
            ] == ['LocalVisBackend', 'TensorboardVisBackend']
