"""HM-AN recognizer head: spatial attention + HM-LSTM over the frames.

For every view (a run of ``num_segments`` consecutive frames of ``x``)::

    a_t = features of frame t, [K = H*W, C]  (optional projection C -> D)
    for t = 1..T:
        alpha_t = attention(a_t, h_{t-1})          soft weights or one-hot
        x_hat_t = sum_k alpha_{t,k} a_{t,k}
        state_t = HM-LSTM step(x_hat_t, state_{t-1})
        y_t     = fc(dropout(output_module(h_t^1..h_t^L)))
    score = mean_t y_t  ('mean', Sharma et al.)  or  y_T  ('last')

Optional paths from the glimpse to the classes (for end-to-end training
from scratch, where the backbone must learn through a random recurrent
head): ``glimpse_residual=True`` adds ``fc_glimpse(x_hat_t)`` to ``y_t``;
``loss_aux`` (a loss config, e.g. mmaction2's ``CrossEntropyLoss``) trains
a per-frame classifier on the average-pooled frame features with TSN's
consensus, ``loss_aux = CE(mean_t fc_aux(mean_k a_{t,k}), label)``, so the
backbone gets TSN's gradient whatever the attention does (training only:
predictions come from the recurrent path alone).

Losses (registry components, ``hman_mmaction/models/losses``, each a
``dict(type=..., loss_weight=...)`` option, ``None`` switches it off):
``loss_cls`` (and ``top1_acc`` ...) as ``BaseHead``; ``loss_boundary``
(``loss_bnd``, on by default) keeps the detectors firing at a target rate;
``loss_attention`` (``loss_att``) is Sharma's doubly stochastic penalty;
``loss_predict`` (``loss_pred``) makes a layer predict the next step's
input; ``loss_segment`` (``loss_seg``) supervises layer-1 boundaries with
the data's sub-action segments; ``loss_entropy`` (``loss_ent``) is an
entropy bonus on the attention; ``loss_score_function`` (``loss_sf``) is
the surrogate loss of hard attention's score-function estimator
(``GumbelHardAttention(estimator='score_function')``, REINFORCE with a
learned baseline); ``loss_aux`` above. The loss dict also
carries detached diagnostics (mmengine logs every key, sums only those
containing ``loss``): ``att_entropy``, ``tau_att``, ``bnd_rate_l<l>`` and
``tau_bnd_l<l>``.

Boundary inputs: ``change_features`` gives layer 1's boundary detector a
per-step change signal ``delta_t`` (:mod:`hman_mmaction.models.
change_features`; ``'frame_diff'``: the difference of consecutive mean
frame features; ``'frame_absdiff'``: its absolute value; ``'frame_change'``:
their squared distance, one number; ``'glimpse_diff'``: the difference of
consecutive glimpses; ``'map_diff'``: ``mean_k |a_{t,k} - a_{t-1,k}|`` per
channel, a comparison of whole maps; ``'map_change'``: their squared
change, one number), scaled by the view's mean ``|a|`` (per channel for the
vectors, over all channels for the numbers); ``'pred_error'``: the
predictive loss's surprise
``sg(std(y_t)) - P h^l_{t-1}``, what the layer failed to predict about this
step's input (needs ``loss_predict``); ``delta_1 = 0``. Where the boundary
must be relative to a change follows the stack's timing
(:meth:`boundary_offset`): the diagnostic detectors (``OracleBoundary``,
``RandomBoundary``, ``ChangePeakBoundary``), which ``run`` turns into
per-step schedules before the loop, and ``loss_segment``'s targets use it.

Speed: ``run`` has two paths side by side with the same values and
gradients (``tests/models/test_fast_paths.py``). Once per forward pass it
makes a plan (:meth:`HMANHead.plan`, :mod:`hman_mmaction.models.plan`:
``'reference'``, ``'fast'`` or ``'compile'``, from the options
``fused_sequence`` and ``gemm`` and the grad / autocast / compile state)
and hands it to the loop and every component: ``_reference_loop``, the
loop above as written, and ``_fast_loop``: the weights sum to one, so the
glimpse is taken on the raw ``C``-channel features and the optional
projection ``C -> D`` is applied to the ``[V, C]`` glimpse, its weights
folded into the
attention keys (one GEMM over all steps and locations before the loop);
the map is read through a ``FeatureMap``, which writes its gradient once
for all steps in ``x``'s layout (one batched GEMM of the per-step rank-one
terms, added to the key GEMM's term) instead of a map-sized gradient per
step and product; in an eager training step the projection and the
HM-LSTM cells compute their weight gradients once per sequence
(``SequenceLinear``); under ``torch.compile`` (plan ``'compile'``) the
same algebra runs as plain autograd ops.
Nothing is kept on a module between calls; no host sync and no
data-dependent Python branch in the step, so the training step traces
with ``torch.compile(fullgraph=True)`` (``tests/models/test_graph_breaks.py``).
"""
from typing import Dict, NamedTuple, Optional

import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model.weight_init import normal_init

from .attention import SoftAttention
from .change_features import (abs_frame_changes, change_score,
                              frame_change_score, map_change_score,
                              map_changes, shift_steps)
from .checkpoint_guard import guard_checkpoint, refuse_unfilled
from .config import default_gemm, use_fused_sequence
from .config_checks import check_feature_channels, check_head_options
from .deferred import SequenceLinear
from .feature_map import FeatureMap
from .losses import BoundaryRateLoss  # noqa: F401 (registers the losses)
from .losses.attention_entropy import mean_attention_entropy
from .plan import GEMMS, Plan, decide_plan
from .segment_targets import change_targets
from .training_checks import check_training_batch


class _Trace:
    """What the steps of one run produce, per step."""

    def __init__(self, frames: torch.Tensor):
        self.frames = frames  # [V, T, D], mean_k a_{t,k}
        self.hidden, self.glimpses, self.weights, self.probs = [], [], [], []
        self.bounds, self.logits, self.tau_att, self.tau_bnd = [], [], [], []

    def add(self, glance, glimpse, state, bounds) -> None:
        self.hidden.append(torch.stack(state.h, dim=1))  # [V, L, H]
        self.glimpses.append(glimpse)
        self.weights.append(glance.weights)
        self.probs.append(glance.probs)
        self.bounds.append(bounds.z)
        self.logits.append(bounds.logits)
        self.tau_att.append(glance.tau)
        self.tau_bnd.append(bounds.tau)


class _StepInputs:
    """What the boundary detectors get per step besides the cells' state:
    the change feature ``delta_t`` and the diagnostic detectors' schedules."""

    def __init__(self, head: 'HMANHead', x: torch.Tensor, frames: torch.Tensor,
                 data_samples) -> None:
        self.kinds = head.change_features
        self.predictor = head.loss_predict
        self.frames = frames  # [V, T, D]
        self.map_diff = (
            map_changes(head._raw_views(x))
            if 'map_diff' in self.kinds else None)
        self.abs_diff = (
            abs_frame_changes(frames)
            if 'frame_absdiff' in self.kinds else None)
        self.score = (
            frame_change_score(frames).unsqueeze(-1)
            if 'frame_change' in self.kinds else None)
        self.map_score = (
            map_change_score(head._raw_views(x)).unsqueeze(-1)
            if 'map_change' in self.kinds else None)
        self.scale = frames.detach().abs().mean(
            dim=1).clamp_min(1e-6) if self.kinds else None  # [V, D]
        self.given = head._schedules(x, frames, data_samples)

    def change(self, t: int, glimpse: torch.Tensor,
               previous: Optional[torch.Tensor],
               hidden: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """``delta_t`` ``[V, change_size]`` (or None) for step ``t`` with
        this step's and the previous step's glimpse ``[V, D]`` and the
        previous step's hidden states ``[V, L, H]``."""
        if not self.kinds:
            return None
        parts = []
        for kind in self.kinds:
            if kind == 'map_diff':
                parts.append(self.map_diff[:, t])
            elif kind == 'frame_absdiff':
                parts.append(self.abs_diff[:, t])
            elif kind == 'frame_change':
                parts.append(self.score[:, t])
            elif kind == 'map_change':
                parts.append(self.map_score[:, t])
            elif t == 0 or previous is None:
                parts.append(torch.zeros_like(self.frames[:, 0]))
            elif kind == 'frame_diff':
                parts.append(
                    (self.frames[:, t] - self.frames[:, t - 1]) / self.scale)
            elif kind == 'glimpse_diff':
                parts.append((glimpse - previous) / self.scale)
            else:  # pred_error
                predictor = self.predictor
                error = predictor.error(
                    hidden[:, predictor.layer - 1],
                    predictor.source(glimpse, self.frames[:, t]))
                parts.append(error.to(glimpse.dtype))
        return torch.cat(parts, dim=-1)

    def given_at(self, t: int) -> Optional[list]:
        if self.given is None:
            return None
        return [None if z is None else z[:, t] for z in self.given]


class HMANOutputs(NamedTuple):
    cls_scores: torch.Tensor  # [V, num_classes]
    step_scores: torch.Tensor  # [V, T, num_classes]
    attention: torch.Tensor  # [V, T, H, W], the weights used
    attention_probs: torch.Tensor  # [V, T, H, W], softmax of the scores
    boundaries: torch.Tensor  # [V, L, T]
    boundary_logits: torch.Tensor  # [V, D, T], z_hat of the D detectors
    hidden: torch.Tensor  # [V, T, L, H]
    glimpses: torch.Tensor  # [V, T, D], x_hat_t
    frame_means: torch.Tensor  # [V, T, D], mean_k a_{t,k}
    tau_attention: Optional[torch.Tensor]  # [V, T] or None
    tau_boundary: Optional[torch.Tensor]  # [V, L, T] or None


@MODELS.register_module()
class HMANHead(BaseHead):
    """Hierarchical Multi-scale Attention Network head (Yan et al., 2017).

    Takes ``x`` ``[N*S, C, H, W]`` from ``Recognizer2D`` and treats every run
    of ``num_segments`` consecutive frames as one sequence (one view), so
    multi-clip / multi-crop testing averages views with
    ``BaseHead.average_clip``.

    Args:
        num_classes (int): number of classes.
        in_channels (int): channels ``C`` of the backbone feature map.
        num_segments (int): frames per sequence ``T`` (``num_clips`` of the
            pipeline's ``SampleFrames``).
        rnn (dict): config of the recurrent stack (``HMLSTM``).
        attention (dict): config of ``SoftAttention`` or
            ``GumbelHardAttention``.
        feat_channels (int, optional): if set, a linear projection ``C -> D``
            of the features before attention. Defaults to None (``D = C``).
        attention_query (str): the query is the previous hidden state of
            ``'all'`` layers (concatenated, default) or the ``'top'`` one.
        init_state (str): ``'mean'``: ``h_0, c_0`` from MLPs of the mean
            feature over frames and locations (Sharma et al.); ``'zeros'``.
        dropout_ratio (float): dropout before the classifier. Defaults to
            0.5.
        loss_boundary (dict, optional): the boundary-rate loss
            (``BoundaryRateLoss``). Defaults to ``loss_weight=2.0,
            target_rate=0.25``: without it the detectors collapse to
            "never" once the head learns (docs/boundaries.md).
        loss_attention (dict, optional): the attention penalty
            (``AttentionCoverageLoss``, Sharma et al.). Defaults to None.
        loss_predict (dict, optional): the dense predictive loss
            (``NextStepPredictionLoss``). Defaults to None.
        loss_segment (dict, optional): segment supervision of layer-1
            boundaries (``BoundarySupervisionLoss``; needs ``gt_segments``
            and ``frame_inds`` in the data samples). Defaults to None.
        loss_aux (dict, optional): the per-frame TSN-style classifier loss
            (e.g. ``dict(type='CrossEntropyLoss', loss_weight=1.0)``).
            Defaults to None.
        loss_entropy (dict, optional): an entropy bonus on the attention
            (``AttentionEntropyLoss``, ``loss_ent``). Defaults to None.
        loss_score_function (dict, optional): the score-function estimator's
            surrogate loss with a learned baseline
            (``AttentionScoreFunctionLoss``, ``loss_sf``); set exactly when
            the attention is ``GumbelHardAttention(estimator=
            'score_function')``. Defaults to None.
        backbone_warmup (dict, optional): a schedule (e.g. ``dict(type=
            'LinearDecay', start=1.0, end_iter=75)``) of the fraction of the
            recurrent path's gradient withheld from the backbone in
            training; ``loss_aux`` keeps its full gradient, so at 1 the
            backbone learns from the auxiliary loss alone. Defaults to
            None (nothing withheld).
        change_features (list[str]): change signals for layer 1's boundary
            detector, any of :attr:`CHANGE_FEATURES` (module doc;
            ``'pred_error'`` needs ``loss_predict``). Defaults to none.
        temporal_pool (str): ``'mean'`` or ``'last'``. Defaults to mean.
        glimpse_residual (bool): add a linear path from each step's glimpse
            to its scores (see the module doc). Defaults to False.
        init_std (float, optional): std of the classifier init. Defaults to
            None: ``nn.Linear``'s own fan-in init, ``U(-1/sqrt(n),
            1/sqrt(n))`` for ``n`` inputs, which suits the small gated
            recurrent output (TSN's 0.01 suits its large pooled feature).
        fused_sequence (bool, optional): ``True``: the fast path, ``False``:
            the reference loop (same values and gradients). Defaults to None:
            :func:`hman_mmaction.models.config.use_fused_sequence` (``True``
            unless ``HMAN_FUSED_SEQUENCE=0``).
        gemm (str, optional): ``'onednn'`` or ``'torch'``: the backend of
            the fast path's float32 CPU products outside autograd. Defaults
            to None: :func:`hman_mmaction.models.config.default_gemm`
            (``'onednn'`` unless ``HMAN_ONEDNN_GEMM=0``).
        test_cfg (dict, optional): ``return_extras=True`` attaches attention
            maps, boundaries, temperatures and per-step scores to the
            predictions.
        kwargs: ``loss_cls``, ``average_clips``, ``topk`` ... of
            ``BaseHead``.
    """

    QUERIES = ('all', 'top')
    INIT_STATES = ('mean', 'zeros')
    POOLS = ('mean', 'last')
    CHANGE_FEATURES = ('frame_diff', 'glimpse_diff', 'map_diff', 'pred_error',
                       'frame_absdiff', 'frame_change', 'map_change')

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_segments: int,
                 rnn: dict = dict(type='HMLSTM'),
                 attention: dict = dict(type='SoftAttention'),
                 feat_channels: Optional[int] = None,
                 attention_query: str = 'all',
                 init_state: str = 'mean',
                 dropout_ratio: float = 0.5,
                 loss_boundary: Optional[dict] = dict(
                     type='BoundaryRateLoss',
                     loss_weight=2.0,
                     target_rate=0.25),
                 loss_attention: Optional[dict] = None,
                 loss_predict: Optional[dict] = None,
                 loss_segment: Optional[dict] = None,
                 loss_aux: Optional[dict] = None,
                 loss_entropy: Optional[dict] = None,
                 loss_score_function: Optional[dict] = None,
                 backbone_warmup: Optional[dict] = None,
                 change_features=(),
                 temporal_pool: str = 'mean',
                 glimpse_residual: bool = False,
                 init_std: Optional[float] = None,
                 fused_sequence: Optional[bool] = None,
                 gemm: Optional[str] = None,
                 test_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        check_head_options(type(self), locals())
        super().__init__(num_classes, in_channels, **kwargs)
        _check_choice('attention_query', attention_query, self.QUERIES)
        _check_choice('init_state', init_state, self.INIT_STATES)
        _check_choice('temporal_pool', temporal_pool, self.POOLS)
        _check_choice('gemm', gemm, GEMMS + (None, ))
        if not isinstance(fused_sequence, (bool, type(None))):
            raise ValueError(
                'HMANHead fused_sequence must be True (fast path), False '
                f'(reference loop) or None (the default), got '
                f'{fused_sequence!r}')
        if num_segments < 1:
            raise ValueError(f'num_segments must be >= 1, got {num_segments}')
        self.num_segments = num_segments
        self.attention_query = attention_query
        self.init_state_mode = init_state
        self.temporal_pool = temporal_pool
        self.change_features = tuple(change_features or ())
        for kind in self.change_features:
            _check_choice('change_features', kind, self.CHANGE_FEATURES)
        self.init_std = init_std
        self.test_cfg = dict(test_cfg or {})

        D = feat_channels or in_channels
        self.feat_proj = (
            nn.Linear(in_channels, D) if feat_channels else nn.Identity())
        sizes = dict(
            map_diff=in_channels, frame_change=1, map_change=1)  # others: D
        change_size = sum(sizes.get(kind, D) for kind in self.change_features)
        rnn_args = dict(input_size=D)
        if change_size:
            rnn_args['change_size'] = change_size
        self.rnn = MODELS.build(rnn, default_args=rnn_args)
        L, H = self.rnn.num_layers, self.rnn.hidden_size
        detectors = getattr(self.rnn, 'num_detectors', L)
        self.loss_boundary = _build_loss(loss_boundary)
        if self.loss_boundary is not None:
            self.loss_boundary.check_detectors(detectors)
        self.loss_attention = _build_loss(loss_attention)
        self.loss_predict = _build_loss(
            loss_predict, in_features=H, target_features=D)
        _check_prediction_error(self.change_features, self.loss_predict, L)
        self.loss_segment = _build_loss(loss_segment)
        if (getattr(self.loss_segment, 'score', None) == 'pred_error'
                and self.loss_predict is None):
            raise ValueError(
                "HMANHead loss_segment score='pred_error' takes its targets "
                "from the predictor of loss_predict: set loss_predict=dict("
                "type='NextStepPredictionLoss', loss_weight=1.0, "
                "target='frame') (or use score='map')")
        self.loss_aux = _build_loss(loss_aux)
        self.loss_entropy = _build_loss(loss_entropy)
        self.loss_score_function = _build_loss(
            loss_score_function, in_features=L * H)
        self.backbone_warmup = (None if backbone_warmup is None else
                                MODELS.build(backbone_warmup))
        query_channels = L * H if attention_query == 'all' else H
        self.attention = MODELS.build(
            attention,
            default_args=dict(feat_channels=D, query_channels=query_channels))
        _check_score_function(self.attention, self.loss_score_function)
        if init_state == 'mean':
            self.init_h = nn.Sequential(nn.Linear(D, L * H), nn.Tanh())
            self.init_c = nn.Sequential(nn.Linear(D, L * H), nn.Tanh())
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio else None
        self.fc_cls = nn.Linear(self.rnn.output_size, num_classes)
        self.fc_glimpse = (
            nn.Linear(D, num_classes) if glimpse_residual else None)
        self.fc_aux = (
            nn.Linear(D, num_classes) if self.loss_aux is not None else None)
        self.fused_sequence = (
            use_fused_sequence() if fused_sequence is None else fused_sequence)
        self.gemm = default_gemm() if gemm is None else gemm
        guard_checkpoint(self)  # trained_with + load check (issue 34)

    def init_weights(self) -> None:
        """Classifier: ``N(0, init_std)`` or, for ``init_std=None``,
        ``nn.Linear``'s fan-in init (bias 0 either way); the auxiliary
        classifier as ``TSNHead`` (``N(0, 0.01)``); the recurrent
        stack's output projection per layer (``HMLSTM.reset_output_proj``).
        """
        if self.init_std is None:
            self.fc_cls.reset_parameters()
            nn.init.zeros_(self.fc_cls.bias)
        else:
            normal_init(self.fc_cls, std=self.init_std)
        if self.fc_aux is not None:  # TSNHead's init: TSN's signal
            normal_init(self.fc_aux, std=0.01)
        reset = getattr(self.rnn, 'reset_output_proj', None)
        if reset is not None and getattr(self.rnn, 'output', '') == 'gated':
            reset()

    # ------------------------------------------------------------------ run
    def _raw_views(self, x: torch.Tensor) -> torch.Tensor:
        """``[V*T, C, H, W]`` -> ``a'`` ``[V, T, K, C]`` (a view, no copy)."""
        self._check_frames(x)
        views, C = x.shape[0] // self.num_segments, x.shape[1]
        return x.reshape(views, self.num_segments, C, -1).transpose(2, 3)

    def _check_frames(self, x: torch.Tensor) -> None:
        """``x`` is ``[V*T, C, H, W]`` with whole views of ``T`` frames."""
        if x.dim() != 4:
            raise ValueError(
                f'HMANHead expects backbone features [N*T, C, H, W], got shape'
                f' {tuple(x.shape)}; use it with Recognizer2D and no neck')
        check_feature_channels(x.shape[1], self.in_channels)
        T = self.num_segments
        if x.shape[0] % T:
            raise ValueError(
                f'HMANHead got {x.shape[0]} frames, not a multiple of '
                f'num_segments={T}. Set cls_head.num_segments to the '
                'num_clips of the SampleFrames step in your pipelines.')

    def _initial_state(self, mean: torch.Tensor):
        """``h_0, c_0`` from the mean feature ``[V, D]`` (or zeros)."""
        views = mean.shape[0]
        L, H = self.rnn.num_layers, self.rnn.hidden_size
        if self.init_state_mode == 'zeros':
            return self.rnn.initial_state(
                views, device=mean.device, dtype=mean.dtype)
        return self.rnn.initial_state(
            views,
            h0=self.init_h(mean).view(views, L, H),
            c0=self.init_c(mean).view(views, L, H))

    def _query(self, state) -> torch.Tensor:
        if self.attention_query == 'top':
            return state.h[-1]
        return torch.cat(state.h, dim=-1)

    def boundary_offset(self, component) -> int:
        """``component.offset`` (a diagnostic detector's, a target loss's),
        or, where that is None, the recurrent stack's timing's
        (:attr:`HMLSTM.boundary_offset`; -1 for a stack that does not
        say)."""
        offset = getattr(component, 'offset', None)
        if offset is not None:
            return offset
        return getattr(self.rnn, 'boundary_offset', -1)

    def _schedules(self, x: torch.Tensor, frames: torch.Tensor, data_samples):
        """Per detector the ``[V, T]`` decisions of a diagnostic detector
        (``schedule`` from the ground-truth changes at its offset, or
        ``schedule_scores`` from the change score of the maps ``x`` or of
        the mean frame features ``frames`` ``[V, T, D]``), or None for a
        learned one; None when there is no diagnostic one."""
        detectors = getattr(self.rnn, 'boundaries', [])
        if not any(
                hasattr(d, 'schedule') or hasattr(d, 'schedule_scores')
                for d in detectors):
            return None
        views, device = frames.shape[0], frames.device
        schedules = []
        for detector in detectors:
            if hasattr(detector, 'schedule_scores'):
                score = change_score(detector.score, self._raw_views(x),
                                     frames)
                schedules.append(
                    detector.schedule_scores(score,
                                             self.boundary_offset(detector)))
                continue
            if not hasattr(detector, 'schedule'):
                schedules.append(None)
                continue
            if detector.needs_ground_truth:
                if data_samples is None:
                    raise RuntimeError(
                        f'{type(detector).__name__} needs the ground-truth '
                        'sub-action segments of the data samples; call '
                        'HMANHead.run(x, data_samples) (loss() and '
                        'predict() do)')
                changes = change_targets(
                    data_samples,
                    views // len(data_samples),
                    self.num_segments,
                    offset=self.boundary_offset(detector),
                    device=device)
            else:
                changes = torch.zeros(views, self.num_segments, device=device)
            schedules.append(detector.schedule(changes))
        return schedules

    def _reference_loop(self,
                        x: torch.Tensor,
                        plan: Plan,
                        data_samples=None) -> _Trace:
        """The recurrence as written (see the module doc): every location
        projected, keys of the projected features, one ``nn.Linear`` call
        per cell and step, plain autograd (``plan.path == 'reference'``)."""
        feats = self.feat_proj(self._raw_views(x))  # [V, T, K, D]
        keys = self.attention.precompute(feats)  # [V, T, K, A] or None
        frames = feats.mean(dim=2)  # [V, T, D]
        state = self._initial_state(frames.mean(dim=1))
        trace = _Trace(frames)
        inputs = _StepInputs(self, x, frames, data_samples)
        for t in range(self.num_segments):
            glance = self.attention(feats[:, t],
                                    None if keys is None else keys[:, t],
                                    self._query(state))
            state, bounds = self.rnn.step(
                glance.glimpse, state,
                **_step_kwargs(inputs, t, glance.glimpse, trace))
            trace.add(glance, glance.glimpse, state, bounds)
        return trace

    def _fast_loop(self,
                   x: torch.Tensor,
                   plan: Plan,
                   data_samples=None) -> _Trace:
        """Same values and gradients as :meth:`_reference_loop`: the glimpse
        is taken on the raw ``C`` channels (the attention weights sum to
        one) and projected to ``D`` once per step, the projection folded into
        the keys (one GEMM over all steps and locations); the map is read
        through a :class:`FeatureMap`, which writes its gradient once for
        all steps, in ``x``'s layout; where the ``plan`` defers (eager
        training, ``'fast'``) the glimpse projection, the folded bilinear
        query, the attention's query projection and the cells compute their
        weight gradients once per sequence (:class:`SequenceLinear`); for
        ``'compile'`` all of them are plain autograd ops (a compiler builds
        its own backward)."""
        self._check_frames(x)
        fmap = FeatureMap(x, self.num_segments, plan)
        proj = self.feat_proj if isinstance(self.feat_proj,
                                            nn.Linear) else None
        keys = self.attention.precompute(fmap, input_proj=proj)
        frames = fmap.frame_means()  # [V, T, C]
        if proj is not None:
            frames = proj(frames)  # [V, T, D]
        state = self._initial_state(frames.mean(dim=1))
        feat_steps = fmap.frames()
        if keys is None:
            key_steps = [None] * len(feat_steps)
        elif self.attention.keyed:
            key_steps = keys.unbind(1)
        else:  # the keys are the features
            key_steps = feat_steps
        cells = self.rnn.sequence_cells(plan)
        layers = self.attention.sequence_layers(proj, plan)
        glimpse_proj = None if proj is None else SequenceLinear(proj, plan)
        trace = _Trace(frames)
        inputs = _StepInputs(self, x, frames, data_samples)
        for t in range(self.num_segments):
            glance = self.attention(feat_steps[t], key_steps[t],
                                    self._query(state), layers)
            glimpse = (glance.glimpse if proj is None else glimpse_proj(
                glance.glimpse))  # [V, D]
            state, bounds = self.rnn.step(
                glimpse, state, cells, **_step_kwargs(inputs, t, glimpse,
                                                      trace))
            trace.add(glance, glimpse, state, bounds)
        return trace

    def plan(self, x: torch.Tensor) -> Plan:
        """The plan of a forward pass on ``x`` in the current grad /
        autocast / compile state (:func:`hman_mmaction.models.plan.
        decide_plan`): the fast path needs attention weights that sum to one
        over the locations (``SoftAttention`` and its subclasses)."""
        return decide_plan(self.fused_sequence, self.gemm, x,
                           isinstance(self.attention, SoftAttention))

    def run(self, x: torch.Tensor, data_samples=None) -> HMANOutputs:
        """Attention + HM-LSTM over every view of ``x`` (see module doc),
        on the path of the plan made once for this pass; ``data_samples``
        (their ``gt_segments`` and ``frame_inds``) are needed only by the
        diagnostic boundary detectors."""
        height, width = x.shape[-2:]
        plan = self.plan(x)
        if plan.path == 'reference':
            trace = self._reference_loop(x, plan, data_samples)
        else:
            trace = self._fast_loop(x, plan, data_samples)
        hidden = torch.stack(trace.hidden, dim=1)  # [V, T, L, H]
        out = self.rnn.output_features(hidden)  # [V, T, out]
        glimpses = torch.stack(trace.glimpses, dim=1)  # [V, T, D]
        if self.dropout is not None:
            out = self.dropout(out)
        step_scores = self.fc_cls(out)  # [V, T, num_classes]
        if self.fc_glimpse is not None:
            step_scores = step_scores + self.fc_glimpse(
                glimpses if self.dropout is None else self.dropout(glimpses))
        cls_scores = (
            step_scores.mean(
                dim=1) if self.temporal_pool == 'mean' else step_scores[:, -1])
        views = hidden.shape[0]
        return HMANOutputs(
            cls_scores=cls_scores,
            step_scores=step_scores,
            attention=torch.stack(trace.weights,
                                  1).view(views, -1, height, width),
            attention_probs=torch.stack(trace.probs,
                                        1).view(views, -1, height, width),
            boundaries=torch.stack(trace.bounds, dim=2),
            boundary_logits=torch.stack(trace.logits, dim=2),
            hidden=hidden,
            glimpses=glimpses,
            frame_means=trace.frames,
            tau_attention=_stack_or_none(trace.tau_att, dim=1),
            tau_boundary=_stack_or_none(trace.tau_bnd, dim=2))

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Class scores ``[V, num_classes]``, one row per view."""
        return self.run(x).cls_scores

    # --------------------------------------------------------------- losses
    def loss(self, feats: torch.Tensor, data_samples: SampleList,
             **kwargs) -> Dict:
        """Losses and diagnostics of a training batch (see the module doc):
        the labels gathered from ``data_samples``, then
        :meth:`loss_by_labels`."""
        check_training_batch(self, data_samples)  # labels, hooks (issue 34)
        labels = torch.stack([x.gt_label for x in data_samples])
        return self.loss_by_labels(
            feats, labels.to(feats.device), data_samples=data_samples)

    def loss_by_labels(self,
                       feats: torch.Tensor,
                       labels: torch.Tensor,
                       data_samples: Optional[SampleList] = None) -> Dict:
        """The training step of the head on tensors (forward and every
        loss; no host sync, traceable with ``torch.compile(fullgraph=True)``):
        ``feats`` ``[N*T, C, H, W]``, ``labels`` ``[N]`` (or ``[N, 1]``, or
        ``[N, num_classes]`` soft labels); ``data_samples`` only for the
        losses and detectors that read the ground-truth segments."""
        outputs = self.run(self._withheld(feats), data_samples)
        if outputs.cls_scores.shape[0] != labels.shape[0]:
            raise ValueError(
                f'HMANHead got {outputs.cls_scores.shape[0]} sequences for '
                f'{labels.shape[0]} training samples: the train pipeline '
                'must sample exactly num_segments frames (one clip) per video')
        # float32: bf16 scores (CPU --amp) would lose the loss precision
        losses = self._cls_losses(outputs.cls_scores.float(), labels)
        learned = _learned_layers(self.rnn, outputs.boundaries.shape[1])
        if self.loss_attention is not None:
            losses['loss_att'] = self.loss_attention(outputs.attention)
        if self.loss_entropy is not None:
            losses['loss_ent'] = self.loss_entropy(outputs.attention_probs)
        if self.loss_score_function is not None:
            losses['loss_sf'] = self.loss_score_function(
                outputs.cls_scores, labels.to(outputs.cls_scores.device),
                outputs.attention, outputs.attention_probs, outputs.hidden)
        if self.loss_boundary is not None and learned:
            losses['loss_bnd'] = self.loss_boundary(outputs.boundaries,
                                                    learned)
        if self.loss_predict is not None:
            losses['loss_pred'] = self.loss_predict(outputs.hidden,
                                                    outputs.glimpses,
                                                    outputs.frame_means)
        if self.loss_segment is not None:
            losses['loss_seg'] = self.loss_segment(
                outputs.boundary_logits,
                self._segment_targets(data_samples, outputs, feats))
        if self.loss_aux is not None:
            frames = outputs.frame_means
            if self.backbone_warmup is not None:  # the full gradient
                frames = self.feat_proj(self._raw_views(feats).mean(dim=2))
            scores = self.fc_aux(frames).mean(dim=1).float()
            losses['loss_aux'] = self.loss_aux(
                scores,
                labels.reshape(-1).to(scores.device))
        for layer, detector in enumerate(self.rnn.boundaries):
            if hasattr(detector, 'calibrate'):
                detector.calibrate(outputs.boundary_logits[:, layer])
        losses.update(
            training_diagnostics(outputs, learned,
                                 _temperature_layers(self.rnn)))
        return losses

    def _withheld(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats`` with ``backbone_warmup``'s fraction ``beta`` of the
        recurrent path's gradient withheld from the backbone: forward
        ``feats``, backward ``(1 - beta)`` times its gradient."""
        if self.backbone_warmup is None:
            return feats
        fixed = feats.detach()
        return fixed + (1.0 - self.backbone_warmup()) * (feats - fixed)

    def _segment_targets(self, data_samples, outputs,
                         feats: torch.Tensor) -> torch.Tensor:
        """``loss_segment``'s targets ``[V, T]`` at the timing's offset:
        the ground-truth changes, or the peaks of the change score of the
        maps ``feats`` (or of the mean frame features)."""
        loss = self.loss_segment
        offset = self.boundary_offset(loss)
        if not getattr(loss, 'needs_ground_truth', True):
            if loss.score == 'pred_error':
                score = self._surprise(outputs)
            else:
                score = change_score(loss.score, self._raw_views(feats),
                                     outputs.frame_means)
            return shift_steps(loss.peaks(score), offset)
        if data_samples is None:
            raise RuntimeError(
                'loss_segment needs the data samples (their gt_segments and '
                'frame_inds): call loss(feats, data_samples) or '
                'loss_by_labels(feats, labels, data_samples)')
        return change_targets(
            data_samples,
            outputs.boundaries.shape[0] // len(data_samples),
            self.num_segments,
            offset=offset,
            device=outputs.boundary_logits.device)

    @torch.no_grad()
    def _surprise(self, outputs: HMANOutputs) -> torch.Tensor:
        """``[V, T]``: the squared error of ``loss_predict``'s predictor at
        each step ``t >= 1`` (predicting step ``t`` from ``h_{t-1}``), 0 at
        ``t = 0``."""
        predictor = self.loss_predict
        source = (
            outputs.glimpses
            if predictor.target == 'glimpse' else outputs.frame_means)
        error = predictor.error(outputs.hidden[:, :-1, predictor.layer - 1],
                                source[:, 1:]).pow(2).mean(dim=-1)
        return torch.cat([torch.zeros_like(error[:, :1]), error], dim=1)

    def loss_by_feat(self, cls_scores: torch.Tensor,
                     data_samples: SampleList) -> Dict:
        """``BaseHead.loss_by_feat`` with the top-k accuracy computed on the
        device (the base copies the scores to numpy: a host sync)."""
        labels = torch.stack([x.gt_label for x in data_samples])
        return self._cls_losses(cls_scores, labels.to(cls_scores.device))

    def _cls_losses(self, cls_scores: torch.Tensor,
                    labels: torch.Tensor) -> Dict:
        """``loss_cls`` and ``top{k}_acc`` as ``BaseHead.loss_by_feat``
        (same label handling), on tensors."""
        labels = labels.squeeze()
        if labels.dim() == 0 or (labels.dim() == 1
                                 and labels.shape[0] == self.num_classes
                                 and cls_scores.shape[0] == 1):
            labels = labels.unsqueeze(0)  # one sample (or one soft label)
        losses = dict()
        if cls_scores.shape != labels.shape:  # hard labels
            accuracy = top_k_accuracy(cls_scores.detach(), labels, self.topk)
            for k, value in zip(self.topk, accuracy):
                losses[f'top{k}_acc'] = value
        if self.label_smooth_eps != 0:
            if cls_scores.shape != labels.shape:
                labels = nn.functional.one_hot(
                    labels, num_classes=self.num_classes)
            labels = ((1 - self.label_smooth_eps) * labels +
                      self.label_smooth_eps / self.num_classes)
        loss_cls = self.loss_cls(cls_scores, labels)
        if isinstance(loss_cls, dict):
            losses.update(loss_cls)
        else:
            losses['loss_cls'] = loss_cls
        return losses

    # ------------------------------------------------------------- predict
    def predict(self, feats: torch.Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        refuse_unfilled(self)  # a partial load, another step count
        outputs = self.run(feats, data_samples)
        samples = self.predict_by_feat(outputs.cls_scores, data_samples)
        if self.test_cfg.get('return_extras', False):
            attach_extras(samples, outputs)
            for sample in samples:  # where BoundaryMetric scores exactly
                sample.set_field(self.boundary_offset(None), 'boundary_offset')
        return samples


def _build_loss(cfg: Optional[dict], **default_args):
    """A loss component from its config, or None."""
    if cfg is None:
        return None
    return MODELS.build(cfg, default_args=default_args or None)


def _step_kwargs(inputs: _StepInputs, t: int, glimpse: torch.Tensor,
                 trace: _Trace) -> dict:
    """``change`` and ``given`` for ``rnn.step`` (empty without them, so
    another recurrent stack needs no such arguments)."""
    kwargs = {}
    previous = trace.glimpses[-1] if trace.glimpses else None
    hidden = trace.hidden[-1] if trace.hidden else None
    change = inputs.change(t, glimpse, previous, hidden)
    if change is not None:
        kwargs['change'] = change
    given = inputs.given_at(t)
    if given is not None:
        kwargs['given'] = given
    return kwargs


def _check_prediction_error(kinds, predictor, num_layers) -> None:
    """``'pred_error'`` reads the predictor of ``loss_predict``."""
    if 'pred_error' not in kinds:
        return
    if predictor is None:
        raise ValueError(
            "HMANHead change_features 'pred_error' is the error of the "
            'predictive loss: set loss_predict=dict(type='
            "'NextStepPredictionLoss', loss_weight=1.0, target='frame') "
            "(or drop 'pred_error')")
    if predictor.layer > num_layers:
        raise ValueError(
            f'HMANHead loss_predict layer={predictor.layer} but the HM-LSTM '
            f'has {num_layers} layers')


def _check_score_function(attention: nn.Module, loss: Optional[nn.Module]):
    """The score-function estimator and its loss come together: the
    sample carries no gradient, so without the loss the attention would not
    learn; without the estimator the loss would add a second gradient."""
    estimator = getattr(attention, 'estimator', None)
    if loss is not None and estimator != 'score_function':
        raise ValueError(
            'HMANHead loss_score_function needs attention=dict(type='
            "'GumbelHardAttention', estimator='score_function'), got "
            f'{type(attention).__name__} with estimator={estimator!r}: set '
            'the estimator, or leave loss_score_function out')
    if loss is None and estimator == 'score_function':
        raise ValueError(
            "HMANHead attention estimator='score_function' needs "
            "loss_score_function=dict(type='AttentionScoreFunctionLoss') "
            '(the sample carries no gradient: without it the attention '
            "does not learn), or use estimator='straight_through'")


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f'HMANHead {name} must be one of {choices}, '
                         f'got {value!r}')


def _learned_layers(rnn, num_layers):
    """Layers whose boundary is learned (``HMLSTM.learned_detectors``);
    every layer for a stack that does not say."""
    learned = getattr(rnn, 'learned_detectors', None)
    return list(range(num_layers)) if learned is None else learned


def _temperature_layers(rnn):
    """Layers whose boundary detector has a temperature (known from the
    modules, so the diagnostics need no look at the values)."""
    return [
        layer for layer, detector in enumerate(rnn.boundaries)
        if getattr(detector, 'temperature', None) is not None
    ]


def top_k_accuracy(scores: torch.Tensor, labels: torch.Tensor,
                   topk=(1, )) -> list:
    """Fraction of rows of ``scores`` ``[N, classes]`` whose label ``[N]``
    is among the ``k`` highest scores, for each ``k`` (mmaction2's
    ``top_k_accuracy`` on the device: a tensor each, no host sync)."""
    labels = labels.reshape(-1, 1)
    ranked = scores.topk(min(max(topk), scores.shape[-1]), dim=-1).indices
    hits = ranked == labels  # [N, k_max]
    return [hits[:, :k].any(dim=-1).float().mean() for k in topk]


def _stack_or_none(items, dim):
    if any(item is None for item in items):
        return None
    return torch.stack(items, dim=dim)


@torch.no_grad()
def training_diagnostics(outputs: HMANOutputs,
                         layers=None,
                         tau_layers=None) -> Dict[str, torch.Tensor]:
    """Detached scalars to log: attention entropy, temperatures, boundary
    rates of ``layers`` and temperatures of ``tau_layers`` (default all;
    numbered from 1)."""
    stats = dict(att_entropy=mean_attention_entropy(outputs.attention_probs))
    if outputs.tau_attention is not None:
        stats['tau_att'] = outputs.tau_attention.float().mean()
    rates = outputs.boundaries.float().mean(dim=(0, 2))
    if layers is None:
        layers = range(len(rates))
    for layer in layers:
        stats[f'bnd_rate_l{layer + 1}'] = rates[layer]
    if outputs.tau_boundary is not None:
        taus = outputs.tau_boundary.float().nanmean(dim=(0, 2))
        if tau_layers is None:
            tau_layers = range(len(taus))
        for layer in tau_layers:
            stats[f'tau_bnd_l{layer + 1}'] = taus[layer]
    return stats


def attach_extras(samples: SampleList, outputs: HMANOutputs) -> None:
    """Attach per-sample extras; a leading view axis is kept only when a
    sample has several views (clips x crops).

    Fields: ``attention_map`` ``[T, H, W]``, ``boundaries`` ``[L, T]``,
    ``step_scores`` ``[T, num_classes]`` (softmax), and when present
    ``tau_attention`` ``[T]``, ``tau_boundary`` ``[L, T]``.
    """
    per_sample = outputs.cls_scores.shape[0] // len(samples)
    fields = dict(
        attention_map=outputs.attention,
        boundaries=outputs.boundaries,
        step_scores=outputs.step_scores.float().softmax(dim=-1),
        tau_attention=outputs.tau_attention,
        tau_boundary=outputs.tau_boundary)
    for index, sample in enumerate(samples):
        views = slice(index * per_sample, (index + 1) * per_sample)
        for name, value in fields.items():
            if value is None:
                continue
            value = value[views].detach().float()
            sample.set_field(value[0] if per_sample == 1 else value, name)
