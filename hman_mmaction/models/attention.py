"""Spatial attention over the K = H*W locations of a frame's feature map.

Scores ``e_t`` (``[N, K]``) come from the previous hidden state ``h_{t-1}``
(the *query*) and, for ``score='content'``, from the features:

* ``'content'`` (default): ``e_{t,k} = w^T tanh(W_a a_{t,k} + W_h h_{t-1})``.
  ``W_a a`` for all ``t, k`` is one batched GEMM done before the time loop
  (:meth:`SoftAttention.precompute`).
* ``'bilinear'`` (Luong et al.'s "general" score): ``e_{t,k} = a_{t,k}^T W_b
  h_{t-1}``. Content-based like ``'content'`` but without a hidden layer
  per location: per step one ``Q x D`` product and one batched
  ``[K, D] x [D]`` product, no GEMM over all ``t, k``. The cheap choice
  for large ``C`` (see ``tools/benchmark.py --head-score``).
* ``'location'`` (Sharma et al.): ``e_t = W_l h_{t-1}``, one logit per
  location, so ``num_locations`` must be given.

``forward(feats_t, keys_t, query, layers=None) -> AttentionStep`` with
``feats_t`` the frame's features, ``[N, K, D]`` rows or a step of a
:class:`~hman_mmaction.models.feature_map.FeatureMap` (what ``HMANHead``'s
fast path passes: the products with the map then write its gradient once
for all steps), ``keys_t`` the precomputed ``[N, K, A]`` (the frame itself
for ``'bilinear'``, ``None`` for ``'location'``), ``query`` ``[N, Q]``.

Fast form with an input projection ``a = P a' + p`` (``HMANHead``'s
``feat_channels``): the weights sum to one over ``K``, so ``sum_k alpha_k (P
a'_k + p) = P (sum_k alpha_k a'_k) + p`` and ``W_a (P a' + p) + b = (W_a P) a'
+ (W_a p + b)``. ``precompute(raw, input_proj=P)`` therefore folds ``P`` into
the key weights (one GEMM of ``A x C`` instead of ``D x C`` plus ``A x D`` per
location) and the head projects the ``[N, C]`` glimpse instead of every
location. For ``'bilinear'``, ``(P a'_k + p)^T u = a'_k^T (P^T u) + p^T u``
and the last term is the same for every ``k`` (softmax ignores it), so the
query ``u = W_b h`` is mapped back to ``C`` channels instead: the steps get
``sequence_layers(P).fold``, the map ``u -> P^T u`` (nothing is kept on
the module between calls).
"""
from typing import Callable, NamedTuple, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from .deferred import SequenceLinear
from .feature_map import FeatureMap, as_frame
from .gumbel import TAU_MIN, gumbel_softmax, straight_through


class AttentionStep(NamedTuple):
    glimpse: torch.Tensor  # x_hat_t = sum_k alpha_{t,k} a_{t,k}   [N, D]
    weights: torch.Tensor  # alpha_t used for the glimpse           [N, K]
    probs: torch.Tensor  # softmax(e_t), for entropy and plots      [N, K]
    tau: Optional[torch.Tensor]  # temperature per sample [N] or None


class _Score(nn.Module):
    """A score's ``query_layer``: the projection of ``h_{t-1}`` it applies
    at every step (``self.query`` unless a score says otherwise), and
    whether it maps its query back through a folded input projection
    (``folds_query``, see the module doc)."""

    folds_query = False

    @property
    def query_layer(self) -> nn.Linear:
        return self.query

    def project(self, query: torch.Tensor,
                layers: Optional['StepLayers']) -> torch.Tensor:
        """``query_layer(h)``, through the sequence's layer if given."""
        layer = self.query_layer if layers is None else layers.query
        return layer(query)


class ContentScore(_Score):
    """``e_{t,k} = w^T tanh(W_a a_{t,k} + W_h h_{t-1})``."""

    keyed = True  # keys: a GEMM over every location (precompute)

    def __init__(self, feat_channels: int, query_channels: int,
                 hidden_channels: int):
        super().__init__()
        self.key = nn.Linear(feat_channels, hidden_channels)
        self.query = nn.Linear(query_channels, hidden_channels, bias=False)
        self.energy = nn.Linear(hidden_channels, 1, bias=False)

    def precompute(self,
                   feats: torch.Tensor,
                   input_proj: Optional[nn.Linear] = None) -> torch.Tensor:
        """``W_a a`` for all steps and locations: ``[N, T, K, A]``, from
        ``feats`` ``[N, T, K, D]`` or a ``FeatureMap``.

        With ``input_proj`` (a ``Linear`` ``P``), ``feats`` are the raw
        features ``a'`` and the keys are ``(W_a P) a' + (W_a p + b)``, i.e.
        ``W_a`` applied to ``P a' + p`` without materialising it.
        """
        weight, bias = self.key.weight, self.key.bias
        if input_proj is not None:
            weight = self.key.weight @ input_proj.weight
            if input_proj.bias is not None:
                bias = torch.addmv(bias, self.key.weight, input_proj.bias)
        if isinstance(feats, FeatureMap):  # one GEMM on the raw map
            return feats.keys(weight, bias)
        return F.linear(feats, weight, bias)

    def forward(self,
                keys_t: torch.Tensor,
                query: torch.Tensor,
                layers: Optional['StepLayers'] = None) -> torch.Tensor:
        hidden = torch.tanh(keys_t + self.project(query, layers).unsqueeze(1))
        return self.energy(hidden).squeeze(-1)


class LocationScore(_Score):
    """``e_t = W_l h_{t-1}`` (Sharma et al.), one logit per location."""

    keyed = False  # no keys

    def __init__(self, query_channels: int, num_locations: Optional[int]):
        super().__init__()
        if not num_locations:
            raise ValueError(
                "score='location' needs num_locations (H*W of the backbone's "
                'feature map, e.g. 49 for 7x7) in the attention config')
        self.num_locations = num_locations
        self.location = nn.Linear(query_channels, num_locations)

    def precompute(self,
                   feats: torch.Tensor,
                   input_proj: Optional[nn.Linear] = None) -> None:
        if feats.shape[2] != self.num_locations:
            raise ValueError(
                f"score='location' was built for num_locations="
                f'{self.num_locations} but the feature map has '
                f'{feats.shape[2]} locations; set attention.num_locations '
                'to H*W of the backbone output for your input size')
        return None

    @property
    def query_layer(self) -> nn.Linear:
        return self.location

    def forward(self,
                keys_t: Optional[torch.Tensor],
                query: torch.Tensor,
                layers: Optional['StepLayers'] = None) -> torch.Tensor:
        return self.project(query, layers)


class BilinearScore(_Score):
    """``e_{t,k} = a_{t,k}^T W_b h_{t-1}``; with a folded input projection
    ``P`` (see the module doc) ``e_{t,k} = a'_{t,k}^T P^T W_b h_{t-1}``, up
    to a constant over ``k``."""

    keyed = False  # the keys are the features
    folds_query = True  # raw keys: the query is mapped back, u -> P^T u

    def __init__(self, feat_channels: int, query_channels: int):
        super().__init__()
        self.query = nn.Linear(query_channels, feat_channels, bias=False)

    def precompute(self,
                   feats: torch.Tensor,
                   input_proj: Optional[nn.Linear] = None) -> torch.Tensor:
        """The keys are the features themselves (raw ones with
        ``input_proj``: the steps then get ``StepLayers.fold``)."""
        return feats

    def forward(self,
                keys_t: torch.Tensor,
                query: torch.Tensor,
                layers: Optional['StepLayers'] = None) -> torch.Tensor:
        direction = self.project(query, layers)  # [N, D]
        if layers is not None and layers.fold is not None:
            direction = layers.fold(direction)  # raw keys: [N, C] = P^T u
        return as_frame(keys_t).scores(direction)


SCORES = ('content', 'bilinear', 'location')


class StepLayers(NamedTuple):
    """The layers a score applies at every step of one sequence (from
    :meth:`SoftAttention.sequence_layers`): ``query``, its projection of
    ``h_{t-1}``, and ``fold``, ``u -> P^T u`` for the bilinear score on raw
    features (see the module doc); each a :class:`SequenceLinear` (one
    weight-gradient GEMM per sequence where the head's plan defers)."""
    query: Callable
    fold: Optional[Callable] = None


class QueryFold:
    """``u -> P^T u`` for a projection ``P`` (``[N, D] -> [N, C]``) as a
    bias-free linear layer of weight ``P^T`` (so that
    :class:`SequenceLinear` can defer its weight gradient)."""

    def __init__(self, proj: nn.Linear):
        self.weight, self.bias = proj.weight.t(), None  # [C, D]

    def __call__(self, u: torch.Tensor) -> torch.Tensor:
        return F.linear(u, self.weight)


def build_score(score: str, feat_channels: int, query_channels: int,
                hidden_channels: int, num_locations: Optional[int]):
    if score == 'content':
        return ContentScore(feat_channels, query_channels, hidden_channels)
    if score == 'bilinear':
        return BilinearScore(feat_channels, query_channels)
    if score == 'location':
        return LocationScore(query_channels, num_locations)
    raise ValueError(f'attention score must be one of {SCORES}, '
                     f'got {score!r}')


@MODELS.register_module()
class SoftAttention(nn.Module):
    """Soft attention: ``alpha_t = softmax(e_t / s)``, ``x_hat_t = sum_k
    alpha_{t,k} a_{t,k}`` (a weighted mean of the locations), ``s`` the
    ``softmax_temperature``.

    Args:
        feat_channels (int): ``D`` of ``a_{t,k}`` (given by the head).
        query_channels (int): size of the query ``h_{t-1}`` (given by the
            head).
        score (str): ``'content'``, ``'bilinear'`` or ``'location'``.
            Defaults to content.
        hidden_channels (int): ``A`` of the content score (unused by the
            others). Defaults to 256.
        num_locations (int, optional): ``K``, required for ``'location'``.
        softmax_temperature (float): ``s > 0`` divides the scores before the
            softmax (and before the Gumbel-softmax of hard attention):
            ``s < 1`` sharpens the weights, ``s > 1`` flattens them.
            Defaults to 1 (the scores as they are).
    """

    def __init__(self,
                 feat_channels: int,
                 query_channels: int,
                 score: str = 'content',
                 hidden_channels: int = 256,
                 num_locations: Optional[int] = None,
                 softmax_temperature: float = 1.0):
        super().__init__()
        if not softmax_temperature > 0:
            raise ValueError(f'{type(self).__name__} softmax_temperature '
                             f'must be > 0, got {softmax_temperature!r}')
        self.score = build_score(score, feat_channels, query_channels,
                                 hidden_channels, num_locations)
        self.softmax_temperature = float(softmax_temperature)

    def precompute(self,
                   feats: torch.Tensor,
                   input_proj: Optional[nn.Linear] = None
                   ) -> Optional[torch.Tensor]:
        """Work shared by all steps, from ``feats`` ``[N, T, K, D]`` (or the
        raw ``[N, T, K, C]`` with ``input_proj``, see the module doc)."""
        return self.score.precompute(feats, input_proj)

    @property
    def keyed(self) -> bool:
        """Whether :meth:`precompute` runs a GEMM over every location
        (a separate key tensor); else the keys are ``None`` or the features
        themselves."""
        return self.score.keyed

    def sequence_layers(self, input_proj: Optional[nn.Linear],
                        plan) -> StepLayers:
        """The per-step layers for one sequence (build one set per forward
        pass, with the head's ``plan``): the score's query projection and,
        for a score that folds its query with ``input_proj`` ``P`` (raw
        features), ``u -> P^T u``; each a :class:`SequenceLinear`, which
        defers its weight gradient to one GEMM per sequence where the plan
        does (``plan.deferred_weights``)."""
        fold = (
            QueryFold(input_proj)
            if input_proj is not None and self.score.folds_query else None)
        return StepLayers(
            SequenceLinear(self.score.query_layer, plan),
            None if fold is None else SequenceLinear(fold, plan))

    def logits(self, keys_t, query, layers=None) -> torch.Tensor:
        """``e_t / s`` (float32): the one place where scores become the
        logits of the (Gumbel-)softmax, on every path."""
        logits = self.score(keys_t, query, layers).float()
        if self.softmax_temperature != 1.0:
            logits = logits / self.softmax_temperature
        return logits

    def forward(self,
                feats_t: torch.Tensor,
                keys_t: Optional[torch.Tensor],
                query: torch.Tensor,
                layers: Optional[StepLayers] = None) -> AttentionStep:
        """One step: ``feats_t`` ``[N, K, D]``, ``keys_t`` (``[:, t]`` of
        :meth:`precompute`), ``query`` ``[N, Q]``, ``layers`` from
        :meth:`sequence_layers` (default: the score's own layers, no fold).
        When ``feats_t`` and ``keys_t`` are raw features whose keys were
        precomputed with ``input_proj`` ``P`` (the glimpse is then raw too),
        ``layers`` must come from ``sequence_layers(P)``."""
        probs = torch.softmax(self.logits(keys_t, query, layers), dim=-1)
        return AttentionStep(
            as_frame(feats_t).glimpse(probs), probs, probs, None)


@MODELS.register_module()
class GumbelHardAttention(SoftAttention):
    """HM-AN's stochastic hard attention: one location per step.

    Training: ``alpha_t = GumbelSoftmax(e_t / s, tau_t, hard=True)``
    (one-hot forward, soft gradient; ``s`` the ``softmax_temperature``).
    Evaluation by ``eval_mode``: ``'argmax'`` (one-hot of ``argmax e_t``,
    default), ``'soft'`` (``softmax(e_t / s)``) or ``'sample'`` (as in
    training).

    Two training-only options for end-to-end training from scratch
    (docs/training_recipes.md):

    * ``soft_mix`` (a schedule, e.g. ``dict(type='LinearDecay', start=1.0,
      end_iter=150)``): a soft-to-hard curriculum, ``alpha_t = (1 - beta)
      GumbelSoftmax(e_t) + beta softmax(e_t)`` with ``beta`` from the
      schedule (stepped by ``GumbelTemperatureHook``); once ``beta`` is 0
      the step is plain hard attention.
    * ``num_samples`` ``S > 1``: the forward value is still the one-hot of
      one sample, the straight-through gradient is that of the mean of
      ``S`` relaxed samples ``mean_s softmax((e_t + g_s) / tau)`` (a
      lower-variance estimate of the same expected gradient).

    ``estimator`` chooses how the attention's scores learn in training:
    ``'straight_through'`` (default, the Gumbel-softmax gradient above) or
    ``'score_function'`` (REINFORCE, as Xu et al.'s hard attention in "Show,
    Attend and Tell"): ``alpha_t`` is the one-hot of ``s_t ~ softmax(e_t /
    s)`` with no gradient through the sample, and the scores learn only from
    the head's ``loss_score_function`` (``AttentionScoreFunctionLoss``,
    which reads ``log p(s_t)`` from ``attention`` and ``attention_probs``).
    ``soft_mix`` composes (its soft part keeps the soft gradient);
    ``num_samples`` must be 1.

    Args:
        temperature (dict): config of a temperature component, conditioned on
            the query. Defaults to ``AdaptiveTemperature``.
        eval_mode (str): see above. Defaults to ``'argmax'``.
        tau_min (float): temperature floor. Defaults to 0.01.
        soft_mix (dict, optional): the schedule of ``beta``. Defaults to None
            (``beta = 0``).
        num_samples (int): ``S``. Defaults to 1.
        estimator (str): ``'straight_through'`` or ``'score_function'``.
            Defaults to ``'straight_through'``.
        Other args as :class:`SoftAttention`.
    """

    EVAL_MODES = ('argmax', 'soft', 'sample')
    ESTIMATORS = ('straight_through', 'score_function')

    def __init__(self,
                 feat_channels: int,
                 query_channels: int,
                 score: str = 'content',
                 hidden_channels: int = 256,
                 num_locations: Optional[int] = None,
                 temperature: dict = dict(type='AdaptiveTemperature'),
                 eval_mode: str = 'argmax',
                 tau_min: float = TAU_MIN,
                 softmax_temperature: float = 1.0,
                 soft_mix: Optional[dict] = None,
                 num_samples: int = 1,
                 estimator: str = 'straight_through'):
        super().__init__(feat_channels, query_channels, score, hidden_channels,
                         num_locations, softmax_temperature)
        if eval_mode not in self.EVAL_MODES:
            raise ValueError(f'GumbelHardAttention eval_mode must be one of '
                             f'{self.EVAL_MODES}, got {eval_mode!r}')
        if isinstance(
                num_samples,
                bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError('GumbelHardAttention num_samples must be an '
                             f'integer >= 1, got {num_samples!r}')
        if estimator not in self.ESTIMATORS:
            raise ValueError(f'GumbelHardAttention estimator must be one of '
                             f'{self.ESTIMATORS}, got {estimator!r}')
        if estimator == 'score_function' and num_samples != 1:
            raise ValueError(
                "GumbelHardAttention estimator='score_function' takes one "
                f'sample per step, got num_samples={num_samples}: leave '
                'num_samples out (it shapes the straight-through gradient)')
        self.estimator = estimator
        self.num_samples = num_samples
        self.soft_mix = None if soft_mix is None else MODELS.build(soft_mix)
        self.temperature = MODELS.build(
            temperature, default_args=dict(in_features=query_channels))
        self.eval_mode = eval_mode
        self.tau_min = tau_min

    def forward(self,
                feats_t: torch.Tensor,
                keys_t: Optional[torch.Tensor],
                query: torch.Tensor,
                layers: Optional[StepLayers] = None) -> AttentionStep:
        logits = self.logits(keys_t, query, layers)
        probs = torch.softmax(logits, dim=-1)
        tau = self.temperature(query).float().expand(logits.shape[0], 1)
        if self.training and self.estimator == 'score_function':
            # the one-hot of s_t ~ softmax(e_t / s) (Gumbel-max), no gradient
            weights = torch.zeros_like(probs).scatter_(
                -1, (logits.detach() -
                     torch.empty_like(logits).exponential_().log()).argmax(
                         -1, keepdim=True), 1.0)
            if self.soft_mix is not None:
                weights = weights + self.soft_mix() * (probs - weights)
        elif self.training or self.eval_mode == 'sample':
            weights = self._sample(logits, tau)
            if self.training and self.soft_mix is not None:
                weights = weights + self.soft_mix() * (probs - weights)
        elif self.eval_mode == 'argmax':
            weights = torch.zeros_like(probs).scatter_(
                -1, logits.argmax(-1, keepdim=True), 1.0)
        else:
            weights = probs
        return AttentionStep(
            as_frame(feats_t).glimpse(weights), weights, probs, tau.squeeze(1))

    def _sample(self, logits: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """A straight-through one-hot sample; for ``num_samples > 1`` its
        gradient is the mean of the relaxed samples' (class doc)."""
        if self.num_samples == 1:
            return gumbel_softmax(logits, tau, True, -1, self.tau_min)
        relaxed = gumbel_softmax(
            logits.expand(self.num_samples, *logits.shape), tau, False, -1,
            self.tau_min)  # [S, N, K]
        one_hot = torch.zeros_like(logits).scatter_(
            -1, relaxed[0].argmax(-1, keepdim=True), 1.0)
        return straight_through(one_hot, relaxed.mean(0))
