"""PreciseBNHook: the running statistics become the plain average of the
batch statistics of the final weights, the random states are untouched,
and layers with frozen statistics (eval mode) are left alone."""
import random
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn as nn
from mmaction.registry import HOOKS

from hman_mmaction.engine.precise_bn import recompute_batchnorm


class TinyRecognizer(nn.Module):
    """``model(inputs, data_samples, mode='tensor')`` over a BN layer, with
    the data preprocessor interface of mmengine models."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(3, momentum=0.1)
        self.frozen = nn.BatchNorm1d(3)
        self.frozen.eval()  # norm_eval: statistics frozen

    def data_preprocessor(self, batch, training):
        return dict(inputs=batch, data_samples=None)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.frozen(self.bn(inputs))


def batches(count=6, size=8):
    generator = torch.Generator().manual_seed(1)
    return [
        torch.randn(size, 3, generator=generator) * (k + 1) + k
        for k in range(count)
    ]


def test_statistics_are_the_average_over_the_batches():
    model = TinyRecognizer()
    model.bn.running_mean.fill_(100.0)  # stale, as after a moving backbone
    data = batches()
    used = recompute_batchnorm(model, data, [model.bn], num_batches=4)
    assert used == 4
    expected_mean = torch.stack([b.mean(0) for b in data[:4]]).mean(0)
    expected_var = torch.stack([b.var(0) for b in data[:4]]).mean(0)
    torch.testing.assert_close(model.bn.running_mean, expected_mean)
    torch.testing.assert_close(model.bn.running_var, expected_var)
    assert model.bn.momentum == 0.1  # restored
    assert torch.equal(model.frozen.running_mean, torch.zeros(3))


def test_hook_restores_the_random_states_and_skips_frozen_layers():
    model = TinyRecognizer()
    model.train()
    model.frozen.eval()
    runner = SimpleNamespace(
        model=model, train_dataloader=batches(), epoch=0, max_epochs=3)
    hook = HOOKS.build(dict(type='PreciseBNHook', num_batches=3))

    def draws():
        return (random.random(), np.random.rand(), torch.rand(1).item())

    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    expected = draws()
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    hook.after_train_epoch(runner)
    assert draws() == expected
    mean = torch.stack([b.mean(0) for b in batches()[:3]]).mean(0)
    torch.testing.assert_close(model.bn.running_mean, mean)
    assert torch.equal(model.frozen.running_mean, torch.zeros(3))
