"""tools/test.py --attention scores a checkpoint's attention maps against
the generated boxes, next to the accuracy; enable_attention_evaluation
sets the head, the pipeline and the evaluator."""
import re

import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from tests.helpers import call_tool, data_overrides

DEMO = 'configs/hman_demo.py'


def test_test_tool_prints_attention_scores(tiny_dataset, tmp_path):
    cfg = Config.fromfile(DEMO)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # an untrained checkpoint is enough
    checkpoint = tmp_path / 'init.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    result = call_tool('test', [
        DEMO,
        str(checkpoint), '--attention', '--work-dir',
        str(tmp_path / 'test'), '--cfg-options'
    ] + data_overrides(tiny_dataset.root))
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'acc/top1' in result.stdout
    for key in ('pointing', 'pointing_uniform', 'mass_target',
                'mass_target_uniform', 'mass_distractors',
                'mass_distractors_uniform', 'entropy', 't0_pointing'):
        assert f'attention/{key}:' in result.stdout, key
    # 4 test videos x 2 views (twice_sample) x 8 steps
    assert re.search(r'attention/steps: 64\.0', result.stdout), \
        result.stdout[-2000:]


def test_enable_attention_evaluation_sets_head_pipeline_and_evaluator():
    from hman_mmaction.evaluation import enable_attention_evaluation
    cfg = enable_attention_evaluation(Config.fromfile(DEMO))
    assert cfg.model.cls_head.test_cfg.return_extras is True
    types = [t.type for t in cfg.test_dataloader.dataset.pipeline]
    assert types[-2:] == ['RecordBoxGeometry', 'PackActionInputs']
    pack = cfg.test_dataloader.dataset.pipeline[-1]
    assert {'frame_inds', 'gt_boxes', 'box_geometry'} <= set(pack.meta_keys)
    assert [e['type'] for e in cfg.test_evaluator
            ] == ['RobustAccMetric', 'AttentionMetric']
    # twice is once: no second RecordBoxGeometry
    enable_attention_evaluation(cfg)
    types = [t.type for t in cfg.test_dataloader.dataset.pipeline]
    assert types.count('RecordBoxGeometry') == 1
