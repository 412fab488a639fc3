"""BatchNorm statistics recomputed for the weights that will be evaluated
("precise BN", Wu & Johnson, *Rethinking "Batch" in BatchNorm*, 2021).

During training a BN layer keeps ``running = (1 - m) running + m batch``:
an exponential average over the last ~1/m iterations, i.e. over weights
that an optimiser (AdamW here) has since moved. A gated recurrent head
reads the rescaled features through saturating gates, so a lag that TSN's
linear head tolerates can put a trained HM-AN at chance in eval mode. This
hook replaces the running statistics by the plain average over
``num_batches`` training batches with the final weights of the epoch::

    mean = (1/B) sum_b mean_b,   var = (1/B) sum_b var_b   (momentum=None)

It runs after every training epoch, before the checkpoint is written
(``CheckpointHook`` has the lowest priority), so validation, the saved
checkpoint and ``tools/test.py`` all use the recomputed statistics. The
random states (``random``, ``numpy``, ``torch``) are restored afterwards, so
training continues exactly as without the hook. BN layers in eval mode
(``norm_eval=True``, frozen statistics) are left alone.
"""
import random
from typing import List

import numpy as np
import torch
import torch.nn as nn
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper


def training_batchnorms(model: nn.Module) -> List[nn.Module]:
    """The BN layers that update their statistics (in train mode)."""
    return [
        m for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training
        and m.track_running_stats
    ]


@HOOKS.register_module()
class PreciseBNHook(Hook):
    """Recompute the BN running statistics after each training epoch.

    Args:
        num_batches (int): training batches averaged. Defaults to 20.
        interval (int): every ``interval`` epochs (and after the last one).
            Defaults to 1.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, num_batches: int = 20, interval: int = 1):
        if num_batches < 1:
            raise ValueError(
                f'PreciseBNHook num_batches must be >= 1, got {num_batches}')
        self.num_batches = num_batches
        self.interval = interval

    def after_train_epoch(self, runner) -> None:
        last = runner.epoch + 1 >= runner.max_epochs
        if not (self.every_n_epochs(runner, self.interval) or last):
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        layers = training_batchnorms(model)
        if not layers:
            return
        states = (random.getstate(), np.random.get_state(),
                  torch.get_rng_state())
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available(
        ) else None
        try:
            used = recompute_batchnorm(model, runner.train_dataloader, layers,
                                       self.num_batches)
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])
            if cuda is not None:
                torch.cuda.set_rng_state_all(cuda)
        print_log(
            f'PreciseBNHook: BN statistics of {len(layers)} layers '
            f'recomputed over {used} training batches',
            logger='current')


@torch.no_grad()
def recompute_batchnorm(model, dataloader, layers, num_batches: int) -> int:
    """Average the batch statistics of ``layers`` over ``num_batches``
    batches of ``dataloader`` (forward in train mode, no gradient);
    returns the number of batches used."""
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    used = 0
    try:
        for batch in dataloader:
            data = model.data_preprocessor(batch, True)
            model(**data, mode='tensor')
            used += 1
            if used >= num_batches:
                break
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
    return used
