import pytest
import torch
from mmaction.registry import MODELS

from hman_mmaction.models.gumbel import binary_concrete, gumbel_softmax

NUM_SAMPLES = 20_000


def test_gumbel_softmax_hard_forward_is_exactly_one_hot():
    logits = torch.randn(64, 7)
    y = gumbel_softmax(logits, tau=0.7, hard=True)
    assert set(y.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(y.sum(-1), torch.ones(64))


def test_gumbel_softmax_sample_frequencies_match_softmax_within_one_percent():
    logits = torch.tensor([1.5, 0.2, -0.7, 0.9, -2.0])
    samples = gumbel_softmax(logits.expand(NUM_SAMPLES, -1), tau=0.5)
    frequency = samples.mean(0)
    assert torch.allclose(frequency, logits.softmax(-1), atol=0.01)


def test_binary_concrete_hard_forward_is_exactly_zero_or_one():
    z = binary_concrete(torch.randn(1000), tau=0.3)
    assert set(z.unique().tolist()) <= {0.0, 1.0}


def test_binary_concrete_frequency_matches_sigmoid_within_one_percent():
    logits = torch.tensor([-1.2, 0.0, 0.4, 2.0])
    z = binary_concrete(logits.expand(NUM_SAMPLES, -1), tau=0.8)
    assert torch.allclose(z.mean(0), logits.sigmoid(), atol=0.01)


@pytest.mark.parametrize('sampler', ['categorical', 'binary'])
def test_straight_through_gradients_reach_logits_and_adaptive_temperature(
        sampler):
    temperature = MODELS.build(
        dict(type='AdaptiveTemperature', in_features=6, tau_max=1.0))
    state = torch.randn(32, 6)
    logits = torch.randn(32, 5, requires_grad=True)
    tau = temperature(state)
    weights = torch.randn(5)
    if sampler == 'categorical':
        out = gumbel_softmax(logits, tau, hard=True)
    else:
        out = binary_concrete(logits, tau, hard=True)
    (out * weights).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    for param in temperature.parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0
        assert torch.isfinite(param.grad).all()


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_gumbel_paths_stay_finite_at_tiny_tau_and_huge_logits(dtype):
    logits = (torch.randint(0, 2, (10_000, 4)).float() * 2 - 1) * 1e4
    logits = logits.to(dtype).requires_grad_()
    tau = torch.full((10_000, 1), 0.01, requires_grad=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = gumbel_softmax(logits, tau, hard=True)
        z = binary_concrete(logits[:, 0], tau[:, 0], hard=True)
    assert torch.isfinite(y).all() and torch.isfinite(z).all()
    assert torch.equal(y.sum(-1), torch.ones(10_000))
    (y.sum() + z.sum()).backward()
    assert torch.isfinite(logits.grad.float()).all()
    assert torch.isfinite(tau.grad).all()


def test_temperature_is_clamped_to_tau_min():
    logits = torch.tensor([[0.3, 0.1]]).expand(2000, -1)
    soft = gumbel_softmax(logits, tau=1e-9, hard=False, tau_min=0.5)
    reference = gumbel_softmax(logits, tau=0.5, hard=False)
    # same temperature -> soft samples are equally (un)sharp on average
    assert abs(soft.max(-1).values.mean() -
               reference.max(-1).values.mean()) < 0.02
