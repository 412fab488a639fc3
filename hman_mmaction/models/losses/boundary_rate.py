"""A penalty that keeps the boundary detectors firing at a target rate."""
from typing import Sequence, Union

import torch
from mmaction.registry import MODELS

from .base import HeadLoss

Rate = Union[float, Sequence[float], str]


@MODELS.register_module()
class BoundaryRateLoss(HeadLoss):
    """``loss_boundary = w * sum_l (mean_{n,t} z^l_{n,t} - r_l)^2`` over the
    layers with a learned detector (``outputs.boundaries``, ``outputs.
    learned_layers``; nothing to measure without one): without it the
    detectors drift to "never" once the head learns (docs/boundaries.md).
    Straight-through: the rate is the hard one, the gradient the soft
    one's.

    ``form='bce'`` uses the binary cross-entropy of the rate instead,
    ``w * sum_l -[r_l log q_l + (1 - r_l) log(1 - q_l)] - H(r_l)`` (zero at
    ``q_l = r_l``), whose gradient does not vanish as the rate ``q_l``
    approaches 0 (the squared error's pull is ``2 (q - r)``, too weak to
    bring a saturated detector back; measured: a layer stuck at rate 0).

    Args:
        loss_weight (float): ``w`` (``mu``). Defaults to 2.0.
        target_rate (float | list[float] | str): ``r_l``: one rate for every
            learned layer, one per detector, or ``'auto'``: the training
            set's ground-truth change rate per sampled step, set before
            training by ``BoundaryRateFromDataHook`` (every layer gets it).
            Defaults to 0.25.
        form (str): ``'squared'`` (default) or ``'bce'``.
    """

    FORMS = ('squared', 'bce')

    def __init__(self,
                 loss_weight: float = 2.0,
                 target_rate: Rate = 0.25,
                 form: str = 'squared'):
        super().__init__(loss_weight)
        if form not in self.FORMS:
            raise ValueError(f'BoundaryRateLoss form must be one of '
                             f'{self.FORMS}, got {form!r}')
        self.form = form
        self.auto = target_rate == 'auto'
        if isinstance(target_rate, str) and not self.auto:
            raise ValueError(
                "BoundaryRateLoss target_rate must be a rate, a list of "
                f"rates or 'auto', got {target_rate!r}")
        rates = [] if self.auto else (
            list(target_rate) if isinstance(target_rate,
                                            (list, tuple)) else [target_rate])
        if not all(isinstance(r, (int, float)) and 0 <= r <= 1 for r in rates):
            raise ValueError('BoundaryRateLoss target_rate must be in [0, 1]'
                             f', got {target_rate!r}')
        # persistent: a checkpoint of an 'auto' run keeps the rate it used
        self.register_buffer('target_rate',
                             torch.tensor(rates, dtype=torch.float32))

    def check_detectors(self, detectors: int) -> None:
        """Refuse a list of rates that does not give one per detector."""
        count = self.target_rate.numel()
        if not self.auto and count not in (1, detectors):
            raise ValueError(
                f'loss_boundary target_rate gives {count} rates for '
                f'{detectors} boundary detectors (one per layer with a '
                'detector: the top layer has none unless '
                'rnn.top_boundary=True); give one rate or one per detector')

    def set_target_rate(self, rate: float) -> None:
        """Set every layer's target (``'auto'``, from the training data)."""
        if not 0 <= rate <= 1:
            raise ValueError(f'a boundary rate must be in [0, 1], got {rate}')
        self.target_rate = torch.tensor([float(rate)],
                                        device=self.target_rate.device)

    @property
    def sized_by_checkpoint(self) -> tuple:
        """Buffers whose size a loaded checkpoint sets (``'auto'``: the
        rate the run was trained with); the checkpoint guard accepts them."""
        return ('target_rate', ) if self.auto else ()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # the number of rates is the checkpoint's ('auto' starts with none)
        saved = state_dict.get(prefix + 'target_rate')
        if saved is not None:
            self.target_rate = torch.empty_like(saved)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _forward(self, outputs, labels, data_samples):
        layers = outputs.learned_layers
        if not layers:
            return None
        return self.penalty(outputs.boundaries, layers)

    def penalty(self, boundaries: torch.Tensor,
                layers: Sequence[int]) -> torch.Tensor:
        """The unweighted penalty of ``boundaries`` ``z`` ``[V, L, T]`` over
        ``layers`` (the learned ones)."""
        if self.target_rate.numel() == 0:
            raise RuntimeError(
                "loss_boundary=dict(type='BoundaryRateLoss', target_rate="
                "'auto') has no rate yet: it is set from the training data "
                "before training by BoundaryRateFromDataHook: add dict(type="
                "'BoundaryRateFromDataHook') to the config's custom_hooks "
                "(configs/_base_/default_runtime.py has it), or give "
                'target_rate as a number')
        # integer indices, not a list index (a host-to-device copy)
        rates = torch.stack([boundaries[:, layer] for layer in layers],
                            dim=1).float().mean(dim=(0, 2))
        targets = self.target_rate.expand(
            len(layers)) if (self.target_rate.numel() == 1) else torch.stack(
                [self.target_rate[layer] for layer in layers])
        if self.form == 'squared':
            return (rates - targets).pow(2).sum()
        eps = 1e-4
        q = rates.clamp(eps, 1 - eps)
        r = targets.clamp(eps, 1 - eps)
        cross = -(r * q.log() + (1 - r) * (1 - q).log())
        entropy = -(r * r.log() + (1 - r) * (1 - r).log())
        return (cross - entropy).sum()
