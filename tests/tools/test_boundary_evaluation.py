"""tools/test.py --boundaries scores the HM-LSTM boundaries of a checkpoint
against the generated ground truth, next to the accuracy."""
import os.path as osp
import re

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from tests.helpers import REPO, call_tool, data_overrides

DEMO = 'configs/hman_demo.py'

# the config form of --boundaries (docs/boundaries.md)
CONFIG = """_base_ = [{demo!r}]
model = dict(cls_head=dict(test_cfg=dict(return_extras=True)))
test_pipeline = [
    dict(t, meta_keys=('img_shape', 'frame_inds', 'gt_segments'))
    if t['type'] == 'PackActionInputs' else t
    for t in _base_.test_pipeline
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_evaluator = [dict(type='RobustAccMetric'), dict(type='BoundaryMetric')]
"""


@pytest.mark.parametrize('how', ['flag', 'config'])
def test_test_tool_prints_boundary_metrics_per_layer(how, tiny_dataset,
                                                     tmp_path):
    cfg = Config.fromfile(DEMO)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # an untrained checkpoint is enough
    checkpoint = tmp_path / 'init.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    if how == 'flag':
        args = [DEMO, str(checkpoint), '--boundaries']
    else:
        config = tmp_path / 'hman_demo_boundaries.py'
        config.write_text(CONFIG.format(demo=osp.join(REPO, DEMO)))
        args = [str(config), str(checkpoint)]
    result = call_tool(
        'test', args +
        ['--work-dir', str(tmp_path / 'test'), '--cfg-options'] +
        data_overrides(tiny_dataset.root))
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'acc/top1' in result.stdout
    layers = cfg.model.cls_head.rnn.num_layers
    for layer in range(1, layers + 1):
        for key in ('precision', 'recall', 'f1', 'rate', 'random_f1'):
            assert f'boundary/l{layer}_{key}:' in result.stdout, key
    # 4 test videos x 2 views (twice_sample)
    assert re.search(r'boundary/views: 8\.0', result.stdout), \
        result.stdout[-2000:]


def test_enable_boundary_evaluation_sets_head_pipeline_and_evaluator():
    from hman_mmaction.evaluation import enable_boundary_evaluation
    cfg = enable_boundary_evaluation(Config.fromfile(DEMO))
    assert cfg.model.cls_head.test_cfg.return_extras is True
    pack = [
        t for t in cfg.test_dataloader.dataset.pipeline
        if t.type == 'PackActionInputs'
    ][0]
    assert {'frame_inds', 'gt_segments'} <= set(pack.meta_keys)
    assert [e['type'] for e in cfg.test_evaluator
            ] == ['RobustAccMetric', 'BoundaryMetric']
