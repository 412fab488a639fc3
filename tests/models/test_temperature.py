import math

import pytest
import torch
from mmaction.registry import MODELS


def test_fixed_temperature_returns_its_value():
    tau = MODELS.build(dict(type='FixedTemperature', tau=0.3))
    assert tau(torch.randn(4, 3)).item() == pytest.approx(0.3)


def test_annealed_temperature_follows_exponential_schedule_with_floor():
    tau = MODELS.build(
        dict(type='AnnealedTemperature', tau_0=2.0, tau_min=0.5, rate=0.01))
    assert tau().item() == pytest.approx(2.0)
    tau.step(100)
    assert tau().item() == pytest.approx(2.0 * math.exp(-1.0))
    tau.step(10_000)
    assert tau().item() == pytest.approx(0.5)


def test_annealed_temperature_value_is_saved_in_the_state_dict():
    tau = MODELS.build(dict(type='AnnealedTemperature', rate=0.1))
    tau.step(5)
    restored = MODELS.build(dict(type='AnnealedTemperature', rate=0.1))
    restored.load_state_dict(tau.state_dict())
    assert restored().item() == pytest.approx(math.exp(-0.5))


def test_adaptive_temperature_is_bounded_by_tau_max_and_starts_at_tau_init():
    tau = MODELS.build(
        dict(
            type='AdaptiveTemperature',
            in_features=8,
            tau_max=2.0,
            tau_init=0.7))
    assert torch.allclose(tau(torch.randn(5, 8)), torch.tensor(0.7))
    torch.nn.init.normal_(tau.proj.weight, std=10.0)
    values = tau(torch.randn(1000, 8) * 10)
    assert values.shape == (1000, 1)
    assert (values > 0).all() and (values <= 2.0).all()


def test_adaptive_temperature_rejects_tau_init_above_tau_max():
    with pytest.raises(ValueError, match='tau_init < tau_max'):
        MODELS.build(
            dict(
                type='AdaptiveTemperature',
                in_features=2,
                tau_max=1.0,
                tau_init=1.5))
