"""A recurrent head trained for a few iterations on cached features leaves
the initial plateau ``ln(num_classes)`` (the loss of constant predictions):
the signal reaches the classifier from the first step."""
import math

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner

CONFIGS = {
    'hman_soft': 'configs/cached/hman_demo.py',
    'hman_hard': 'configs/cached/demo/hman-hard-att_demo.py',
    'attlstm': 'configs/cached/demo/attlstm_demo.py',
}


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_head_on_cached_features_leaves_ln_num_classes(name, demo_store):
    cfg = Config.fromfile(CONFIGS[name])
    loader = cfg.train_dataloader
    loader.update(batch_size=16, num_workers=0, persistent_workers=False)
    loader.dataset.store = demo_store
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    batch = next(iter(Runner.build_dataloader(loader, seed=0)))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    data = model.data_preprocessor(batch, True)
    plateau = math.log(cfg.model.cls_head.num_classes)
    first = None
    for _ in range(40):
        losses = model(**data, mode='loss')
        first = losses['loss_cls'].item() if first is None else first
        optimizer.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optimizer.step()
    assert abs(first - plateau) < 0.1  # starts on the plateau
    assert losses['loss_cls'].item() < 0.9 * plateau, name
