"""tools/test.py --boundaries scores the HM-LSTM boundaries of a checkpoint
against the generated ground truth, next to the accuracy."""
import re

import torch
from mmengine.config import Config
from mmaction.registry import MODELS

from tests.helpers import data_overrides, run_tool

DEMO = 'configs/hman_demo.py'


def test_test_tool_prints_boundary_metrics_per_layer(tiny_dataset, tmp_path):
    cfg = Config.fromfile(DEMO)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # an untrained checkpoint is enough
    checkpoint = tmp_path / 'init.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    result = run_tool([
        'tools/test.py', DEMO, str(checkpoint), '--boundaries',
        '--work-dir', str(tmp_path / 'test'), '--cfg-options'
    ] + data_overrides(tiny_dataset.root))
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
    pack = [t for t in cfg.test_dataloader.dataset.pipeline
            if t.type == 'PackActionInputs'][0]
    assert {'frame_inds', 'gt_segments'} <= set(pack.meta_keys)
    assert [e['type'] for e in cfg.test_evaluator] == [
        'RobustAccMetric', 'BoundaryMetric'
    ]
