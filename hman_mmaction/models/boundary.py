"""Boundary detectors of the HM-LSTM layers (registry components).

A detector turns the boundary logit ``z_hat`` of a layer into ``z in {0,
1}`` (straight-through in training). ``z_t = 1`` means the layer ends a
segment at ``t``: it FLUSHes at ``t + 1``, feeds its state to the layer
above at ``t`` (which then UPDATEs instead of COPYing) and gates the
top-down input of the layer below at ``t + 1``.

``forward(z_hat, state, given=None) -> (z, tau)``: ``z_hat`` ``[N]``,
``state`` the layer's previous hidden state ``[N, H]`` (for adaptive
temperatures), ``given`` the step's column of :meth:`schedule` for the
diagnostic detectors that need the ground truth; ``z`` ``[N]``; ``tau`` the
temperature used (``[N]``) or ``None``.
``upward(z)`` is the gate the layer above sees (``z`` except for
:class:`NoBoundary`). ``learned = False`` marks detectors that the
boundary-rate loss leaves alone; ``needs_ground_truth = True`` those whose
decisions the head computes before the loop with ``schedule(changes)``
from the data samples' sub-action segments.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .change_features import SCORES, PeakThreshold, shift_steps
from .gumbel import TAU_MIN, binary_concrete, straight_through

BoundaryResult = Tuple[torch.Tensor, Optional[torch.Tensor]]


@MODELS.register_module()
class GumbelBoundary(nn.Module):
    """HM-AN's stochastic boundary: a binary Concrete sample of ``z_hat``.

    Training: ``z = 1[sigmoid((z_hat + log u - log(1-u)) / tau) > 0.5]``,
    straight-through, so ``P(z = 1) = sigmoid(z_hat)`` whatever ``tau``.
    Evaluation (``eval_decision``):

    * ``'threshold'``: ``z = 1[z_hat > 0]`` (deterministic);
    * ``'calibrated'``: ``z = 1[z_hat > theta]``, ``theta`` the running
      (EMA, ``momentum``) ``1 - r`` quantile of the training logits, ``r =
      mean sigmoid(z_hat)`` the training rate, so that the test rate is the
      training rate even where the detector is unconfident (``z_hat`` near
      0, where thresholding at 0 fires far less than sampling);
      ``calibrate`` is called by the head once per training forward;
    * ``'sample'``: keep sampling.

    Args:
        in_features (int): hidden size of the layer (given by ``HMLSTM``).
        temperature (dict): config of a temperature component.
            Defaults to ``AdaptiveTemperature``.
        eval_decision (str): see above. Defaults to ``'threshold'``.
        momentum (float): EMA momentum of ``'calibrated'``. Defaults to
            0.01.
        tau_min (float): temperature floor. Defaults to 0.01.
    """

    DECISIONS = ('threshold', 'calibrated', 'sample')

    def __init__(self,
                 in_features: int,
                 temperature: dict = dict(type='AdaptiveTemperature'),
                 eval_decision: str = 'threshold',
                 momentum: float = 0.01,
                 tau_min: float = TAU_MIN):
        super().__init__()
        if eval_decision not in self.DECISIONS:
            raise ValueError(f'GumbelBoundary eval_decision must be one of '
                             f'{self.DECISIONS}, got {eval_decision!r}')
        self.temperature = MODELS.build(
            temperature, default_args=dict(in_features=in_features))
        self.eval_decision = eval_decision
        self.momentum = momentum
        self.tau_min = tau_min
        self.register_buffer('threshold', torch.zeros(()))
        self.register_buffer('calibrated', torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def calibrate(self, z_hat: torch.Tensor) -> None:
        """Move ``theta`` towards the ``1 - mean sigmoid(z_hat)`` quantile
        of the training logits ``z_hat`` (any shape; all steps of a
        forward pass at once). The first call sets it."""
        if self.eval_decision != 'calibrated' or z_hat.numel() == 0:
            return
        logits = z_hat.detach().float().reshape(-1)
        rate = torch.sigmoid(logits).mean()
        quantile = torch.quantile(logits, (1.0 - rate).clamp(0.0, 1.0))
        step = torch.where(self.calibrated, self.momentum, 1.0)
        self.threshold.add_(step * (quantile - self.threshold))
        self.calibrated.fill_(True)

    def forward(self,
                z_hat: torch.Tensor,
                state: torch.Tensor,
                given: Optional[torch.Tensor] = None) -> BoundaryResult:
        tau = self.temperature(state).float().expand(z_hat.shape[0], 1)
        tau = tau.squeeze(1)
        if self.training or self.eval_decision == 'sample':
            return binary_concrete(z_hat, tau, True, self.tau_min), tau
        if self.eval_decision == 'calibrated':
            return (z_hat.float() > self.threshold).float(), tau
        return (z_hat > 0).float(), tau

    def upward(self, z: torch.Tensor) -> torch.Tensor:
        return z


@MODELS.register_module()
class HardSigmoidBoundary(nn.Module):
    """Chung et al.'s deterministic boundary with slope annealing.

    ``z_tilde = clip((a * z_hat + 1) / 2, 0, 1)``, ``z = 1[z_tilde > 0.5]``,
    straight-through; the slope ``a = min(slope_max, slope + slope_rate *
    iter)`` is stepped by ``GumbelTemperatureHook`` (``slope_rate=0`` keeps
    it fixed).

    Args:
        in_features (int): unused (uniform build call).
        slope (float): initial slope ``a``. Defaults to 1.0.
        slope_max (float): largest slope. Defaults to 5.0.
        slope_rate (float): slope increase per iteration. Defaults to 0.
    """

    def __init__(self,
                 in_features: Optional[int] = None,
                 slope: float = 1.0,
                 slope_max: float = 5.0,
                 slope_rate: float = 0.0):
        super().__init__()
        self.slope_0, self.slope_max, self.slope_rate = (slope, slope_max,
                                                         slope_rate)
        self.register_buffer('slope', torch.tensor(float(slope)))

    def value_at(self, iteration: int) -> float:
        return min(self.slope_max, self.slope_0 + self.slope_rate * iteration)

    def step(self, iteration: int) -> None:
        self.slope.fill_(self.value_at(iteration))

    def forward(self,
                z_hat: torch.Tensor,
                state: torch.Tensor,
                given: Optional[torch.Tensor] = None) -> BoundaryResult:
        z_tilde = ((self.slope * z_hat.float() + 1.0) / 2.0).clamp(0.0, 1.0)
        return straight_through((z_hat > 0).float(), z_tilde), None

    def upward(self, z: torch.Tensor) -> torch.Tensor:
        return z


@MODELS.register_module()
class NoBoundary(nn.Module):
    """No boundaries: ``z == 0`` (no FLUSH, no top-down input) and the layer
    hands its state up at every step, so every layer UPDATEs every step and
    the stack is a plain stacked LSTM (the attention-LSTM baseline).

    Args:
        in_features (int): unused (uniform build call).
        options: refused, naming the no-boundary configs (a boundary dict
            merged by ``--cfg-options`` keeps the Gumbel detector's keys).
    """

    learned = False  # nothing to keep alive: no rate penalty

    def __init__(self, in_features: Optional[int] = None, **options):
        if options:
            raise TypeError(
                f'NoBoundary takes no options, got {sorted(options)}. '
                '`--cfg-options model.cls_head.rnn.boundary.type=NoBoundary` '
                'keeps the other keys of the config\'s boundary dict (e.g. '
                'the `temperature` of GumbelBoundary): mmengine merges '
                'overrides into the existing dict. Use the no-boundary '
                'configs instead (the Att-LSTM baseline '
                'configs/demo/attlstm_demo.py, the ablation '
                'configs/demo/ablations/hman-no-bnd_demo.py, '
                'configs/ablations/hman-no-bnd_*.py), or replace the whole '
                "dict in a config file: rnn=dict(boundary=dict(_delete_=True, "
                "type='NoBoundary')).")
        super().__init__()

    def forward(self,
                z_hat: torch.Tensor,
                state: torch.Tensor,
                given: Optional[torch.Tensor] = None) -> BoundaryResult:
        return torch.zeros_like(z_hat, dtype=torch.float32), None

    def upward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(z)


class _GivenBoundary(nn.Module):
    """A diagnostic detector whose decisions are made before the loop from
    the ground-truth changes (:meth:`schedule`); no gradient, no
    temperature, never pushed by the boundary-rate loss."""

    learned = False
    needs_ground_truth = True
    offset = None  # None: the timing's (HMLSTM.boundary_offset)

    def forward(self,
                z_hat: torch.Tensor,
                state: torch.Tensor,
                given: Optional[torch.Tensor] = None) -> BoundaryResult:
        if given is None:
            raise RuntimeError(
                f'{type(self).__name__} decides from the ground-truth '
                'sub-action changes, which the head computes from the data '
                'samples; it cannot run without them (HMANHead.run(x, '
                'data_samples=...))')
        return given.to(torch.float32), None

    def upward(self, z: torch.Tensor) -> torch.Tensor:
        return z


@MODELS.register_module()
class OracleBoundary(_GivenBoundary):
    """Fires exactly at the ground-truth sub-action changes from the data
    samples' ``gt_segments`` and ``frame_inds``, at the step the stack's
    timing needs (``offset=None``, :attr:`HMLSTM.boundary_offset`: the last
    step of the old motion for ``timing='post'``, the first step of the new
    one for ``'pre'``). An **upper bound** for a diagnostic (does the task
    reward boundaries in the right place?), never a result: it reads the
    labels of the test video.

    Args:
        in_features (int): unused (uniform build call).
        offset (int, optional): step of ``z = 1`` relative to the change
            step (the first step that shows the new motion). Defaults to
            None: the timing's.
    """

    def __init__(self,
                 in_features: Optional[int] = None,
                 offset: Optional[int] = None):
        super().__init__()
        self.offset = offset

    def schedule(self, changes: torch.Tensor) -> torch.Tensor:
        """``changes`` ``[V, T]`` (at ``offset``) -> ``z`` ``[V, T]``."""
        return changes


@MODELS.register_module()
class RandomBoundary(_GivenBoundary):
    """A random detector for comparison: per view, as many boundaries as the
    view has ground-truth changes (``rate=None``, rate-matched to the truth)
    at steps drawn uniformly without replacement, or ``z ~ Bernoulli(rate)``
    at every step (``rate`` a number; needs no ground truth then).

    Args:
        in_features (int): unused (uniform build call).
        rate (float, optional): see above. Defaults to None.
    """

    def __init__(self,
                 in_features: Optional[int] = None,
                 rate: Optional[float] = None):
        super().__init__()
        if rate is not None and not 0 <= rate <= 1:
            raise ValueError(f'RandomBoundary rate must be in [0, 1], got '
                             f'{rate!r}')
        self.rate = rate
        self.needs_ground_truth = rate is None

    def schedule(self, changes: torch.Tensor) -> torch.Tensor:
        """``changes`` ``[V, T]`` -> as many boundaries per row at random
        steps (ranks of uniform noise below the row's count)."""
        if self.rate is not None:
            return (torch.rand_like(changes, dtype=torch.float32)
                    < self.rate).float()
        counts = changes.sum(dim=1, keepdim=True)  # [V, 1]
        noise = torch.rand(changes.shape, device=changes.device)
        ranks = noise.argsort(dim=1).argsort(dim=1)  # a random permutation
        return (ranks < counts).float()


@MODELS.register_module()
class ChangePeakBoundary(_GivenBoundary):
    """A training-free reference detector: fires where the view's change
    score ``d_t`` exceeds ``theta``, the running ``1 - rate`` quantile of
    the training steps' ``d`` (:class:`PeakThreshold`), at the step the
    timing needs: with ``timing='pre'`` at the step that shows the change
    (causal), with ``'post'`` one step earlier (``offset=-1``, a one-step
    look-ahead). ``score='map'``: ``d_t = mean_{k,c} (a_{t,k,c} -
    a_{t-1,k,c})^2 / sigma^2`` over the feature maps; ``'frame'``: the same
    over the mean frame features
    (:mod:`~hman_mmaction.models.change_features`). Any learned detector
    must beat it. Reads no labels; learns nothing by gradient.

    Args:
        in_features (int): unused (uniform build call).
        rate (float): the firing rate (e.g. the data's change rate).
            Defaults to 0.125.
        score (str): ``'map'`` or ``'frame'``. Defaults to ``'map'``.
        momentum (float): EMA momentum of ``theta``. Defaults to 0.05.
    """

    needs_ground_truth = False

    def __init__(self,
                 in_features: Optional[int] = None,
                 rate: float = 0.125,
                 score: str = 'map',
                 momentum: float = 0.05):
        super().__init__()
        if score not in SCORES:
            raise ValueError(f'ChangePeakBoundary score must be one of '
                             f'{SCORES}, got {score!r}')
        self.score = score
        self.peaks = PeakThreshold(rate, momentum)

    def schedule_scores(self, score: torch.Tensor,
                        offset: int) -> torch.Tensor:
        """The view's change score ``d`` ``[V, T]`` -> ``z`` ``[V, T]``."""
        return shift_steps(self.peaks(score), offset)
