"""GumbelTemperatureHook steps the schedules from runner.iter and logs
them under readable names."""
import math
from types import SimpleNamespace

import pytest
from mmaction.registry import HOOKS, MODELS
from mmengine.logging import MessageHub

from hman_mmaction.engine.hooks import scalar_name


def head_with_schedules():
    return MODELS.build(
        dict(
            type='HMANHead',
            num_classes=3,
            in_channels=8,
            num_segments=4,
            rnn=dict(
                type='HMLSTM',
                hidden_size=6,
                num_layers=3,  # layers 1 and 2 have detectors
                boundary=dict(
                    type='HardSigmoidBoundary',
                    slope=1.0,
                    slope_max=5.0,
                    slope_rate=0.5)),
            attention=dict(
                type='GumbelHardAttention',
                hidden_channels=4,
                temperature=dict(
                    type='AnnealedTemperature',
                    tau_0=1.0,
                    tau_min=0.1,
                    rate=0.01))))


@pytest.mark.parametrize('iteration', [0, 3, 100])
def test_hook_sets_and_logs_the_schedule_of_the_current_iteration(iteration):
    head = head_with_schedules()
    hub = MessageHub.get_instance(f'hook-test-{iteration}')
    runner = SimpleNamespace(model=head, iter=iteration, message_hub=hub)
    hook = HOOKS.build(dict(type='GumbelTemperatureHook'))
    hook.before_train_iter(runner, batch_idx=0)

    slope = min(5.0, 1.0 + 0.5 * iteration)
    tau = max(0.1, math.exp(-0.01 * iteration))
    for layer in (0, 1):
        assert head.rnn.boundaries[layer].slope.item() == pytest.approx(slope)
    assert head.attention.temperature.tau.item() == pytest.approx(tau)
    assert hub.get_scalar('train/slope_bnd_l1').current() == \
        pytest.approx(slope)
    assert hub.get_scalar('train/slope_bnd_l2').current() == \
        pytest.approx(slope)
    assert hub.get_scalar('train/tau_sched_att').current() == \
        pytest.approx(tau)


def test_scalar_names_are_short_and_per_layer():
    assert scalar_name('cls_head.rnn.boundaries.0') == 'slope_bnd_l1'
    assert scalar_name('cls_head.rnn.boundaries.2.temperature') == \
        'tau_sched_bnd_l3'
    assert scalar_name('cls_head.attention.temperature') == 'tau_sched_att'
    assert scalar_name('cls_head.attention.soft_mix') == 'soft_mix_att'
    assert scalar_name('something.else') == 'something.else'


def test_hook_steps_the_soft_to_hard_mix():
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=3,
            in_channels=8,
            num_segments=4,
            attention=dict(
                type='GumbelHardAttention',
                hidden_channels=4,
                soft_mix=dict(type='LinearDecay', start=0.8, end_iter=40))))
    hub = MessageHub.get_instance('hook-test-soft-mix')
    hook = HOOKS.build(dict(type='GumbelTemperatureHook'))
    for iteration, beta in ((0, 0.8), (10, 0.6), (40, 0.0), (90, 0.0)):
        runner = SimpleNamespace(model=head, iter=iteration, message_hub=hub)
        hook.before_train_iter(runner, batch_idx=0)
        assert head.attention.soft_mix.value.item() == pytest.approx(beta)
        assert hub.get_scalar('train/soft_mix_att').current() == \
            pytest.approx(beta)
