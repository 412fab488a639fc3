"""HM-AN recognizer head: spatial attention + HM-LSTM over the frames.

For every view (a run of ``num_segments`` consecutive frames of ``x``)::

    a_t = features of frame t, [K = H*W, C]  (optional projection C -> D)
    for t = 1..T:
        alpha_t = attention(a_t, h_{t-1})          soft weights or one-hot
        x_hat_t = sum_k alpha_{t,k} a_{t,k}
        state_t = HM-LSTM step(x_hat_t, state_{t-1}; delta_t)
        y_t     = fc(dropout(output_module(h_t^1..h_t^L)))
    score = mean_t y_t  ('mean', Sharma et al.)  or  y_T  ('last')

``glimpse_residual`` adds ``fc_glimpse(x_hat_t)`` to ``y_t``; ``loss_aux``
trains TSN's consensus ``mean_t fc_aux(mean_k a_{t,k})`` (training only);
``backbone_warmup`` withholds a scheduled fraction of the recurrent path's
gradient from the backbone; a ``predictor`` predicts each step's input
(:mod:`~hman_mmaction.models.next_step_predictor`). The losses read
:class:`HMANOutputs` (:mod:`~hman_mmaction.models.losses`).

Speed: one recurrence (:meth:`HMANHead._loop`) on what the pass's plan
(:mod:`~hman_mmaction.models.plan`) picks (:meth:`HMANHead._sequence`):
``'reference'``, the formulation as written; ``'fast'``/``'compile'``, the
same values and gradients (``tests/models/test_fast_paths.py``) with the
projection folded into the keys and applied to the ``[V, C]`` glimpse, the
map read through a ``FeatureMap`` and per-sequence layers and cells that
write the map's and the weights' gradients once per sequence. No host sync
and no data-dependent branch in the step: the training step traces with
``torch.compile(fullgraph=True)`` (``tests/models/test_graph_breaks.py``);
CUDA training replays :meth:`HMANHead._tensors` as a CUDA graph
(``cuda_graphs``, :mod:`~hman_mmaction.models.cuda_graphs`).
"""
from typing import Dict, List, NamedTuple, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model.weight_init import normal_init

from .attention import SoftAttention
from .checkpoint_guard import guard_checkpoint, refuse_unfilled
from .checkpoint_keys import upgrade_hook
from .classification import classification_losses
from .config_checks import (LOSS_SLOTS, check_components, check_frames,
                            check_head_options)
from .cuda_graphs import HeadGraphs
from .deferred import SequenceLinear
from .diagnostics import (attach_extras, learned_layers, temperature_layers,
                          training_diagnostics)
from .feature_map import FeatureMap
from .losses import build_loss
from .next_step_predictor import NextStepPredictor  # noqa: F401 (registers)
from .outputs import HMANOutputs, StepTrace
from .plan import Plan, decide_plan
from .step_inputs import (StepInputs, boundary_schedules, change_size,
                          frame_maps)
from .training_checks import check_training_batch


class _Sequence(NamedTuple):
    """What the recurrence reads, as the plan picked it."""
    frames: torch.Tensor  # [V, T, D], mean_k a_{t,k}
    state: object  # the initial state
    feats: Sequence  # per step: [V, K, D] rows or a MapFrame
    keys: Sequence  # per step: the attention's keys (or None)
    layers: Optional[object] = None  # the attention's per-step layers
    cells: Optional[List] = None  # the HM-LSTM's per-step cells
    glimpse_proj: Optional[SequenceLinear] = None  # [V, C] -> [V, D]


class _Steps:
    """``tensor[:, t]`` of step ``t``, taken when the step asks for it."""

    def __init__(self, tensor: Optional[torch.Tensor]):
        self.tensor = tensor

    def __getitem__(self, t: int) -> Optional[torch.Tensor]:
        return None if self.tensor is None else self.tensor[:, t]


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
        rnn (dict): the recurrent stack (``HMLSTM``).
        attention (dict): ``SoftAttention`` or ``GumbelHardAttention``.
        feat_channels (int, optional): a linear projection ``C -> D`` of the
            features before attention; None: ``D = C``.
        attention_query (str): the query is the previous hidden state of
            ``'all'`` layers (concatenated) or the ``'top'`` one.
        init_state (str): ``'mean'``: ``h_0, c_0`` from MLPs of the mean
            feature (Sharma et al.); ``'zeros'``.
        dropout_ratio (float): dropout before the classifier.
        loss_boundary, loss_attention, loss_predict, loss_segment,
        loss_aux, loss_entropy, loss_score_function (dict, optional): the
            losses (:mod:`hman_mmaction.models.losses`), logged under these
            names; None switches one off. ``loss_boundary`` is on by
            default (without it the detectors collapse to "never",
            docs/boundaries.md); ``loss_aux`` is a classification loss of
            the per-frame classifier; ``loss_score_function`` is set
            exactly when the attention's ``estimator='score_function'``.
        predictor (dict, optional): the ``NextStepPredictor``, trained by
            ``loss_predict``, read by ``change_features=['pred_error']``
            and ``loss_segment``'s ``score='pred_error'``.
        backbone_warmup (dict, optional): a schedule (e.g. ``LinearDecay``)
            of the fraction of the recurrent path's gradient withheld from
            the backbone in training (``loss_aux`` keeps its gradient).
        change_features (list[str]): change signals for layer 1's boundary
            detector (:mod:`hman_mmaction.models.step_inputs`).
        temporal_pool (str): ``'mean'`` or ``'last'``.
        glimpse_residual (bool): add ``fc_glimpse(x_hat_t)`` to ``y_t``.
        init_std (float, optional): std of the classifier init; None:
            ``nn.Linear``'s fan-in init (suits the small gated output).
        fused_sequence (bool | str): the fast path (``True``) or the
            reference loop (``False``), same values and gradients;
            ``'auto'``: fast on a CPU, reference on CUDA.
        cuda_graphs (bool | str): ``'auto'``, ``True``, ``'compile'``,
            ``False`` (:mod:`~hman_mmaction.models.cuda_graphs`).
        test_cfg (dict, optional): ``return_extras=True`` attaches attention
            maps, boundaries, temperatures and per-step scores to the
            predictions.
        kwargs: ``loss_cls``, ``average_clips``, ``topk`` ... of
            ``BaseHead``.
    """

    QUERIES = ('all', 'top')
    INIT_STATES = ('mean', 'zeros')
    POOLS = ('mean', 'last')

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
                 predictor: Optional[dict] = None,
                 backbone_warmup: Optional[dict] = None,
                 change_features=(),
                 temporal_pool: str = 'mean',
                 glimpse_residual: bool = False,
                 init_std: Optional[float] = None,
                 fused_sequence='auto',
                 cuda_graphs='auto',
                 test_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        options = locals()
        check_head_options(type(self), options)
        super().__init__(num_classes, in_channels, **kwargs)
        self.num_segments = num_segments
        self.attention_query = attention_query
        self.init_state_mode = init_state
        self.temporal_pool = temporal_pool
        self.change_features = tuple(change_features or ())
        self.init_std = init_std
        self.fused_sequence = fused_sequence
        self.cuda_graphs = cuda_graphs
        self._graphs = HeadGraphs()  # the captured graphs, by shape
        self.test_cfg = dict(test_cfg or {})

        D = feat_channels or in_channels
        self.feat_proj = (
            nn.Linear(in_channels, D) if feat_channels else nn.Identity())
        rnn_args = dict(input_size=D)
        if self.change_features:
            rnn_args['change_size'] = change_size(self.change_features,
                                                  in_channels, D)
        self.rnn = MODELS.build(rnn, default_args=rnn_args)
        L, H = self.rnn.num_layers, self.rnn.hidden_size
        self.predictor = None if predictor is None else MODELS.build(
            predictor, default_args=dict(in_features=H, target_features=D))
        self.losses = nn.ModuleDict({
            name:
            build_loss(name, options[name], hidden=L * H)
            for name in LOSS_SLOTS if options[name] is not None
        })
        self.backbone_warmup = (None if backbone_warmup is None else
                                MODELS.build(backbone_warmup))
        self.attention = MODELS.build(
            attention,
            default_args=dict(
                feat_channels=D,
                query_channels=L * H if attention_query == 'all' else H))
        check_components(self)
        if init_state == 'mean':
            self.init_h = nn.Sequential(nn.Linear(D, L * H), nn.Tanh())
            self.init_c = nn.Sequential(nn.Linear(D, L * H), nn.Tanh())
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio else None
        self.fc_cls = nn.Linear(self.rnn.output_size, num_classes)
        self.fc_glimpse = (
            nn.Linear(D, num_classes) if glimpse_residual else None)
        self.fc_aux = (
            nn.Linear(D, num_classes) if loss_aux is not None else None)
        self._register_load_state_dict_pre_hook(upgrade_hook)
        guard_checkpoint(self)  # trained_with + load check (issue 34)

    def init_weights(self) -> None:
        """Classifier: ``N(0, init_std)`` or ``nn.Linear``'s init, bias 0;
        ``fc_aux`` as ``TSNHead``'s; ``HMLSTM.reset_output_proj``."""
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
    def plan(self, x: torch.Tensor) -> Plan:
        """The plan of a pass on ``x`` now (:func:`~hman_mmaction.models.
        plan.decide_plan`); the fast path needs ``SoftAttention``'s weights.
        """
        return decide_plan(self.fused_sequence, x,
                           isinstance(self.attention, SoftAttention))

    def run(self,
            x: torch.Tensor,
            data_samples=None,
            for_loss: bool = False) -> HMANOutputs:
        """Attention + HM-LSTM over every view of ``x`` (module doc);
        ``data_samples`` for the diagnostic detectors; ``for_loss``: the
        training step's pass (``backbone_warmup``, ``aux_scores``)."""
        check_frames(x, self.in_channels, self.num_segments)
        fields = self._graphs.tensors(self, x, data_samples, for_loss)
        return HMANOutputs(
            maps=frame_maps(x, self.num_segments),
            learned_layers=tuple(
                learned_layers(self.rnn, fields['boundaries'].shape[1])),
            boundary_offset=self.boundary_offset(None),
            **fields)

    def _tensors(self, x: torch.Tensor, data_samples, for_loss: bool) -> dict:
        """:class:`HMANOutputs`' tensor fields but ``maps`` (None where off):
        what a CUDA graph captures (:mod:`.cuda_graphs`)."""
        feats = self._withheld(x) if for_loss else x
        trace = self._loop(feats, self.plan(feats), data_samples)
        steps = trace.stacked(*x.shape[-2:])
        out = self.rnn.output_features(steps['hidden'])  # [V, T, out]
        if self.dropout is not None:
            out = self.dropout(out)
        step_scores = self.fc_cls(out)  # [V, T, num_classes]
        if self.fc_glimpse is not None:
            glimpses = steps['glimpses']
            step_scores = step_scores + self.fc_glimpse(
                glimpses if self.dropout is None else self.dropout(glimpses))
        return dict(
            cls_scores=step_scores.mean(
                dim=1) if self.temporal_pool == 'mean' else step_scores[:, -1],
            step_scores=step_scores,
            prediction_error=None if self.predictor is None else
            self.predictor(steps['hidden'], steps['glimpses'], trace.frames),
            aux_scores=self._aux_scores(x, trace.frames)
            if for_loss and self.fc_aux is not None else None,
            **steps)

    def _sequence(self, x: torch.Tensor, plan: Plan) -> _Sequence:
        """What the recurrence reads, as ``plan`` picks it: the projected
        rows and the modules' own layers (``'reference'``), or the raw map
        (:class:`FeatureMap`), folded keys and per-sequence layers."""
        if plan.path == 'reference':
            feats = self.feat_proj(frame_maps(x, self.num_segments))
            keys = self.attention.precompute(feats)  # [V, T, K, A] or None
            frames = feats.mean(dim=2)  # [V, T, D]
            state = self._initial_state(frames.mean(dim=1))
            return _Sequence(frames, state, _Steps(feats), _Steps(keys))
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
        return _Sequence(frames, state, feat_steps, key_steps, layers, cells,
                         glimpse_proj)

    def _loop(self, x: torch.Tensor, plan: Plan, data_samples) -> StepTrace:
        """The recurrence (module doc) on what the plan picked."""
        seq = self._sequence(x, plan)
        T = self.num_segments
        schedules = boundary_schedules(
            getattr(self.rnn, 'boundaries', []), frame_maps(x, T), seq.frames,
            data_samples, T, self.boundary_offset)
        inputs = StepInputs(self.change_features, x, T, seq.frames,
                            self.predictor, schedules)
        state, trace = seq.state, StepTrace(seq.frames)
        for t in range(T):
            glance = self.attention(seq.feats[t], seq.keys[t],
                                    self._query(state), seq.layers)
            glimpse = (glance.glimpse if seq.glimpse_proj is None else
                       seq.glimpse_proj(glance.glimpse))  # [V, D]
            state, bounds = self.rnn.step(
                glimpse, state, seq.cells,
                **inputs.step_kwargs(t, glimpse, *trace.previous()))
            trace.add(glance, glimpse, state, bounds)
        return trace

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

    def _withheld(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats`` with ``backbone_warmup``'s fraction ``beta`` of the
        recurrent path's gradient withheld from the backbone: forward
        ``feats``, backward ``(1 - beta)`` times its gradient."""
        if self.backbone_warmup is None:
            return feats
        fixed = feats.detach()
        return fixed + (1.0 - self.backbone_warmup()) * (feats - fixed)

    def _aux_scores(self, x: torch.Tensor,
                    frames: torch.Tensor) -> torch.Tensor:
        """``mean_t fc_aux(mean_k a_{t,k})`` ``[V, num_classes]``, on the
        backbone's full gradient (``x`` as given)."""
        if self.backbone_warmup is not None:
            frames = self.feat_proj(
                frame_maps(x, self.num_segments).mean(dim=2))
        return self.fc_aux(frames).mean(dim=1)

    def boundary_offset(self, component) -> int:
        """``component.offset``, or where None the stack's timing's
        (:attr:`HMLSTM.boundary_offset`; -1 if it does not say)."""
        offset = getattr(component, 'offset', None)
        if offset is not None:
            return offset
        return getattr(self.rnn, 'boundary_offset', -1)

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Class scores ``[V, num_classes]``, one row per view."""
        return self.run(x).cls_scores

    # --------------------------------------------------------------- losses
    def loss(self, feats: torch.Tensor, data_samples: SampleList,
             **kwargs) -> Dict:
        """Losses and diagnostics of a training batch: the labels gathered
        from ``data_samples``, then :meth:`loss_by_labels`."""
        check_training_batch(self, data_samples)  # labels, hooks (issue 34)
        labels = torch.stack([x.gt_label for x in data_samples])
        return self.loss_by_labels(
            feats, labels.to(feats.device), data_samples=data_samples)

    def loss_by_labels(self,
                       feats: torch.Tensor,
                       labels: torch.Tensor,
                       data_samples: Optional[SampleList] = None) -> Dict:
        """The training step on tensors (no host sync; traces with
        ``torch.compile(fullgraph=True)``): ``labels`` ``[N]`` (``[N, 1]``,
        or soft ``[N, num_classes]``); ``data_samples`` only for what reads
        the ground-truth segments."""
        outputs = self.run(feats, data_samples, for_loss=True)
        if outputs.cls_scores.shape[0] != labels.shape[0]:
            raise ValueError(
                f'HMANHead got {outputs.cls_scores.shape[0]} sequences for '
                f'{labels.shape[0]} training samples: the train pipeline '
                'must sample exactly num_segments frames (one clip) per video')
        # float32: bf16 scores (CPU --amp) would lose the loss precision
        losses = classification_losses(self, outputs.cls_scores.float(),
                                       labels)
        for name, loss in self.losses.items():
            value = loss(outputs, labels, data_samples)
            if value is not None:
                losses[name] = value
        for layer, detector in enumerate(self.rnn.boundaries):
            if hasattr(detector, 'calibrate'):
                detector.calibrate(outputs.boundary_logits[:, layer])
        losses.update(
            training_diagnostics(outputs, outputs.learned_layers,
                                 temperature_layers(self.rnn)))
        return losses

    def loss_by_feat(self, cls_scores: torch.Tensor,
                     data_samples: SampleList) -> Dict:
        """``BaseHead.loss_by_feat`` with the top-k accuracy computed on the
        device (the base copies the scores to numpy: a host sync)."""
        labels = torch.stack([x.gt_label for x in data_samples])
        return classification_losses(self, cls_scores,
                                     labels.to(cls_scores.device))

    # ------------------------------------------------------------- predict
    def predict(self, feats: torch.Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        refuse_unfilled(self)  # a partial load, another step count
        outputs = self.run(feats, data_samples)
        samples = self.predict_by_feat(outputs.cls_scores, data_samples)
        if self.test_cfg.get('return_extras', False):
            attach_extras(samples, outputs)
        return samples
