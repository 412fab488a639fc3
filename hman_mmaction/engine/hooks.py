"""Hooks that drive the HM-AN schedules."""
import re

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


def scheduled_modules(model):
    """``(name, module)`` for every submodule with a per-iteration schedule
    (``AnnealedTemperature``, ``HardSigmoidBoundary``): those with
    ``step(iteration)`` and ``value_at(iteration)``."""
    if is_model_wrapper(model):
        model = model.module
    for name, module in model.named_modules():
        if callable(getattr(module, 'step', None)) and callable(
                getattr(module, 'value_at', None)):
            yield name, module


def scalar_name(module_path: str) -> str:
    """A short log name for a scheduled module, e.g.
    ``cls_head.rnn.boundaries.0`` -> ``slope_bnd_l1``,
    ``cls_head.rnn.boundaries.1.temperature`` -> ``tau_sched_bnd_l2``,
    ``cls_head.attention.temperature`` -> ``tau_sched_att``,
    ``cls_head.attention.soft_mix`` -> ``soft_mix_att``; other paths
    are kept as they are."""
    match = re.search(r'boundaries\.(\d+)(\.temperature)?$', module_path)
    if match:
        layer = int(match.group(1)) + 1
        kind = 'tau_sched' if match.group(2) else 'slope'
        return f'{kind}_bnd_l{layer}'
    if module_path.endswith('attention.temperature'):
        return 'tau_sched_att'
    if module_path.endswith('attention.soft_mix'):
        return 'soft_mix_att'
    return module_path


@HOOKS.register_module()
class GumbelTemperatureHook(Hook):
    """Steps annealed temperatures and hard-sigmoid slopes every iteration
    and logs their values (``train/slope_bnd_l<k>``,
    ``train/tau_sched_bnd_l<k>``, ``train/tau_sched_att``, see
    :func:`scalar_name`).

    ``AnnealedTemperature``: ``tau = max(tau_min, tau_0 exp(-rate iter))``;
    ``HardSigmoidBoundary``: ``a = min(a_max, a_0 + rate iter)``. The value
    is set from ``runner.iter`` before each iteration, so resuming continues
    the schedule exactly.

    Args:
        log (bool): push the values to the message hub. Defaults to True.
    """

    priority = 'NORMAL'

    def __init__(self, log: bool = True):
        self.log = log

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        for name, module in scheduled_modules(runner.model):
            module.step(runner.iter)
            if self.log:
                value = module.value_at(runner.iter)
                runner.message_hub.update_scalar(f'train/{scalar_name(name)}',
                                                 value)
