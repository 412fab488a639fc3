"""Gumbel paths stay finite (values and gradients) at tau down to 0.01 and
logits of +-1e4 under mixed precision; the demo trains with ``--amp`` on
CPU (bf16); every training config clips gradients."""
import glob
import json
import math

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from hman_mmaction.models.gumbel import binary_concrete, gumbel_softmax
from tests.helpers import call_tool, data_overrides

N = 10_000
TAUS = [1.0, 0.1, 0.01]
PRECISIONS = [
    ('cpu', torch.bfloat16)
] + ([('cuda', torch.float16)] if torch.cuda.is_available() else [])
precisions = pytest.mark.parametrize(
    'device,dtype', PRECISIONS + ([] if torch.cuda.is_available() else [
        pytest.param(
            'cuda',
            torch.float16,
            marks=pytest.mark.skip(reason='fp16 autocast needs '
                                   'CUDA'))
    ]))


def extreme_logits(shape, device, dtype):
    """Half +-1e4 (saturating), half ordinary values, in ``dtype``."""
    torch.manual_seed(0)
    huge = (torch.randint(0, 2, shape) * 2 - 1).float() * 1e4
    normal = torch.randn(shape) * 3
    mask = torch.rand((shape[0], ) + (1, ) * (len(shape) - 1)) < 0.5
    return torch.where(mask, huge, normal).to(device, dtype).requires_grad_()


def assert_finite(*tensors):
    for tensor in tensors:
        assert tensor is not None
        assert torch.isfinite(tensor).all(), tensor


@precisions
@pytest.mark.parametrize('tau', TAUS)
def test_gumbel_softmax_is_finite_with_finite_gradients(device, dtype, tau):
    logits = extreme_logits((N, 5), device, dtype)
    temperature = torch.full((N, 1), tau, device=device, requires_grad=True)
    with torch.autocast(device, dtype=dtype):
        sample = gumbel_softmax(logits, temperature, hard=True)
        (sample * torch.arange(5., device=device)).sum().backward()
    assert_finite(sample, logits.grad, temperature.grad)
    assert torch.equal(sample.sum(-1), torch.ones(N, device=device))


@precisions
@pytest.mark.parametrize('tau', TAUS)
def test_binary_concrete_is_finite_with_finite_gradients(device, dtype, tau):
    logits = extreme_logits((N, ), device, dtype)
    temperature = torch.full((N, ), tau, device=device, requires_grad=True)
    with torch.autocast(device, dtype=dtype):
        sample = binary_concrete(logits, temperature, hard=True)
        (sample * torch.linspace(-1, 1, N, device=device)).sum().backward()
    assert_finite(sample, logits.grad, temperature.grad)
    assert set(sample.unique().tolist()) <= {0.0, 1.0}


@precisions
@pytest.mark.parametrize('tau', TAUS)
def test_gumbel_boundary_module_is_finite(device, dtype, tau):
    boundary = MODELS.build(
        dict(
            type='GumbelBoundary',
            in_features=8,
            tau_min=0.01,
            temperature=dict(type='FixedTemperature', tau=tau))).to(device)
    boundary.train()
    z_hat = extreme_logits((N, ), device, dtype)
    state = torch.randn(N, 8, device=device)
    with torch.autocast(device, dtype=dtype):
        z, used_tau = boundary(z_hat, state)
        (z * torch.linspace(-1, 1, N, device=device)).sum().backward()
    assert_finite(z, used_tau, z_hat.grad)
    assert set(z.unique().tolist()) <= {0.0, 1.0}


@precisions
def test_adaptive_temperature_at_huge_states_stays_finite(device, dtype):
    boundary = MODELS.build(
        dict(
            type='GumbelBoundary',
            in_features=8,
            temperature=dict(type='AdaptiveTemperature'))).to(device).train()
    torch.nn.init.constant_(boundary.temperature.proj.weight, 1.0)
    z_hat = extreme_logits((N, ), device, dtype)
    state = (torch.randn(N, 8, device=device) * 1e4).to(dtype)
    with torch.autocast(device, dtype=dtype):
        z, tau = boundary(z_hat, state)
        (z * torch.linspace(-1, 1, N, device=device)).sum().backward()
    assert_finite(z, tau, z_hat.grad, boundary.temperature.proj.weight.grad)
    assert tau.min() > 0


@precisions
@pytest.mark.parametrize('tau', TAUS)
def test_gumbel_hard_attention_module_is_finite(device, dtype, tau):
    attention = MODELS.build(
        dict(
            type='GumbelHardAttention',
            feat_channels=4,
            query_channels=6,
            hidden_channels=8,
            temperature=dict(type='FixedTemperature', tau=tau))).to(device)
    attention.train()
    logits = extreme_logits((N, 9), device, dtype)
    attention.logits = lambda keys_t, query, *score_args: logits.float()
    feats = torch.randn(N, 9, 4, device=device, requires_grad=True)
    with torch.autocast(device, dtype=dtype):
        step = attention(feats, None, torch.randn(N, 6, device=device))
        step.glimpse.float().sum().backward()
    assert_finite(step.glimpse, step.weights, logits.grad, feats.grad)
    assert torch.equal(step.weights.sum(-1), torch.ones(N, device=device))


def test_the_demo_trains_with_amp_on_cpu_with_finite_losses(
        tiny_dataset, tmp_path):
    result = call_tool('train', [
        'configs/hman_demo.py', '--amp', '--work-dir',
        str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1'
    ] + data_overrides(tiny_dataset.root, batch_size=2))
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'BF16AmpOptimWrapper' in result.stdout
    log = glob.glob(str(tmp_path / '*' / 'vis_data' / 'scalars.json'))[0]
    with open(log) as f:
        losses = [json.loads(line)['loss'] for line in f if '"loss"' in line]
    assert len(losses) == 4  # 8 videos, batch 2
    assert all(math.isfinite(loss) for loss in losses)


TRAINING_CONFIGS = sorted(
    path for path in glob.glob('configs/**/*.py', recursive=True)
    if '_base_' not in path)


def test_there_are_training_configs_to_check():
    assert 'configs/hman_demo.py' in TRAINING_CONFIGS
    assert len(TRAINING_CONFIGS) > 10


@pytest.mark.parametrize('config', TRAINING_CONFIGS)
def test_every_training_config_clips_gradients(config):
    cfg = Config.fromfile(config)
    assert cfg.get('train_cfg') is not None, f'{config} has no train_cfg'
    clip = cfg.optim_wrapper.get('clip_grad')
    assert clip is not None, f'{config}: set optim_wrapper.clip_grad'
    assert 0 < clip['max_norm'] < math.inf
