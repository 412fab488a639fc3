"""The README's first config (its block after ``<!-- plugin-head-config
-->``: mmaction2's ResNet-50 TSN model with ``HMANHead``) loads from a
folder outside the repository, builds through mmaction2's registry and
trains one step: what a plugin user copies first works as written."""
import os.path as osp
import re

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.helpers import REPO

MARK = '<!-- plugin-head-config -->'


def readme_head_config() -> str:
    text = open(osp.join(REPO, 'README.md')).read()
    block = re.search(re.escape(MARK) + r'\n```python\n(.*?)```', text, re.S)
    assert block, f'README.md has no ```python block after {MARK}'
    return block.group(1)


def test_the_readme_head_config_builds_and_trains_one_step(tmp_path):
    path = tmp_path / 'my_hman.py'
    path.write_text(readme_head_config())
    cfg = Config.fromfile(str(path))
    assert cfg.custom_imports.imports == ['hman_mmaction']
    assert cfg.model.cls_head.type == 'HMANHead'
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    segments = cfg.model.cls_head.num_segments
    inputs = [
        torch.randint(0, 256, (segments, 3, 64, 64)).float() for _ in range(2)
    ]
    samples = [ActionDataSample().set_gt_label(label) for label in (3, 7)]
    data = model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), training=True)
    losses = model(**data, mode='loss')
    # the classifier and the next-step predictor's loss both train
    assert 'loss_cls' in losses
    assert any(key.startswith('loss_pred') for key in losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    head = model.cls_head
    assert all(p.grad is not None for p in head.fc_cls.parameters())
