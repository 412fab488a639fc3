"""What ``tools/benchmark.py`` times: the head alone and a whole recognizer.

**head** (``group='head'``) on random backbone features ``x`` ``[B*T, C, h,
w]`` that require grad (as behind a backbone):

* ``hman_soft``: ``HMANHead`` from the given head config (soft attention,
  Gumbel boundaries with adaptive temperature);
* ``hman_hard``: the same with ``GumbelHardAttention`` + adaptive tau;
* ``attlstm``: the same with ``NoBoundary`` (the Att-LSTM baseline);
* ``hman_soft_reference`` (with ``--reference``): ``hman_soft`` on the
  head's reference loop (``fused_sequence=False``), to show what the fast
  path saves;
* ``lstm``: the reference, ``torch.nn.LSTM`` (fused; cuDNN on CUDA) of the
  same hidden size and depth over the mean-pooled features, a linear
  classifier on the mean over time and cross-entropy;
* with ``head_executions`` (``--compiled``, ``--cuda-graphs``): the default
  head on both paths (and for CUDA graphs the LSTM) again, compiled with
  Inductor (``<base>+compiled``) or captured in a CUDA graph
  (``<base>+cudagraph``), see :mod:`hman_lab.speed.execution`; a
  variant that fails to compile or capture is left out, its traceback in
  ``errors``, its first call's seconds in ``prepare_s``.

Each head variant also carries its ``work`` (FLOPs and compulsory bytes,
forward and training, from the shapes: :mod:`hman_lab.speed.floor`) and,
timed eagerly, its aten ops per call (:mod:`hman_lab.speed.ops`). The
HM-AN heads run with ``cuda_graphs=False`` here (the rows are eager; the
option's own rows are ``tools/device_check.py``'s part g); the end-to-end
recognizer keeps the config's option.

``train`` = loss (the head's ``loss()``: ``loss_cls`` + ``loss_attention`` +
diagnostics) and backward; ``infer`` = eval-mode forward under ``no_grad``.

**end-to-end** (``group='e2e'``): mmaction2 ``Recognizer2D`` with a ResNet
backbone and either the HM-AN head (``hman``) or mmaction2's ``TSNHead``
(``tsn``) on identical uint8 clips ``[B, T, 3, S, S]``. ``train`` =
``model.train_step`` (data preprocessor, forward, loss, backward, SGD
momentum step with grad clipping, as the runner does); ``infer`` =
``model.test_step`` in eval mode.
"""
import copy
import time
import traceback
from typing import Callable, Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .execution import (capture_cuda_graph, compile_fn, prepare, split_variant,
                        variant_name)
from .floor import head_work

HEAD_VARIANTS = ('hman_soft', 'hman_hard', 'attlstm', 'lstm')
# --reference: the default head on its reference loop (fused_sequence=False)
REFERENCE_VARIANT = 'hman_soft_reference'
# the bases timed in each other execution (--compiled, --cuda-graphs):
# the default head on the fast path and on the reference loop, and for
# CUDA graphs the fused LSTM too
EXECUTION_BASES = dict(
    compiled=('hman_soft', REFERENCE_VARIANT),
    cudagraph=('hman_soft', REFERENCE_VARIANT, 'lstm'))
E2E_VARIANTS = ('hman', 'tsn')
MODES = ('train', 'infer')


def _with_locations(attention: dict, side: int) -> dict:
    """``num_locations`` for the location score on a ``side x side`` map."""
    if attention.get('score') == 'location':
        return dict(attention, num_locations=side * side)
    return attention


def head_config(base: dict, variant: str, s: dict) -> dict:
    """The HM-AN head config of ``variant`` at the benchmark sizes; every
    variant keeps the attention score of ``base``."""
    cfg = copy.deepcopy(base)
    cfg.update(
        num_classes=s['num_classes'],
        in_channels=s['head_channels'],
        num_segments=s['head_segments'],
        feat_channels=s['head_feat_channels'] or None)
    cfg['rnn'] = dict(
        cfg['rnn'], hidden_size=s['head_hidden'], num_layers=s['head_layers'])
    cfg['attention'] = _with_locations(
        dict(cfg['attention'], hidden_channels=s['head_att_channels']),
        s['head_map'])
    if variant == 'hman_hard':
        cfg['attention'] = dict(
            cfg['attention'],
            type='GumbelHardAttention',
            temperature=dict(type='AdaptiveTemperature'))
    elif variant == 'attlstm':
        cfg['rnn']['boundary'] = dict(type='NoBoundary')
    elif variant not in ('hman_soft', REFERENCE_VARIANT):
        raise KeyError(f'unknown head variant {variant!r}; choose from '
                       f'{HEAD_VARIANTS + (REFERENCE_VARIANT, )}')
    return cfg


class MeanPoolLSTM(nn.Module):
    """Reference: fused ``nn.LSTM`` over mean-pooled frame features."""

    def __init__(self, channels, hidden, layers, num_classes, segments):
        super().__init__()
        self.segments = segments
        self.lstm = nn.LSTM(channels, hidden, layers, batch_first=True)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x):
        pooled = x.flatten(2).mean(-1)
        seq = pooled.view(-1, self.segments, pooled.shape[-1])
        out, _ = self.lstm(seq)
        return self.fc(out.mean(1))


def _samples(labels, device):
    from mmaction.structures import ActionDataSample
    return [
        ActionDataSample().set_gt_label(int(label)).to(device)
        for label in labels
    ]


def _head_variants(s: dict, only: Optional[str]) -> list:
    """Names of the head variants to build: every base in every execution
    the settings ask for (``head_executions``; compiled: the default head
    on both paths; CUDA graphs: those and the LSTM)."""
    reference = s.get('head_reference') or (only or
                                            '').startswith(REFERENCE_VARIANT)
    bases = HEAD_VARIANTS + ((REFERENCE_VARIANT, ) if reference else ())
    names = list(bases)
    executions = list(s.get('head_executions', ()))
    if only is not None:
        executions.append(split_variant(only)[1])
    for execution in dict.fromkeys(executions):
        if execution == 'eager':
            continue
        for base in EXECUTION_BASES[execution]:
            if base != REFERENCE_VARIANT or reference:
                names.append(variant_name(base, execution))
    return [name for name in names if only is None or name == only]


def _head_loss(model, x, target):
    """The summed loss of a head on ``x`` and tensor labels (what
    ``model.loss`` computes after gathering the labels; traceable)."""
    if isinstance(model, MeanPoolLSTM):
        return F.cross_entropy(model(x), target)
    losses = model.loss_by_labels(x, target)
    return sum(v for k, v in losses.items() if 'loss' in k)


def _head_forward(model, x):
    return model(x)


def _head_cases(s: dict, only: Optional[str]) -> Dict[str, dict]:
    from mmaction.registry import MODELS
    device = s['device']
    B, T = s['head_batch'], s['head_segments']
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(
        B * T, s['head_channels'], s['head_map'], s['head_map'],
        generator=gen).to(device).requires_grad_(True)
    labels = torch.arange(B) % s['num_classes']
    target = labels.to(device)
    samples = _samples(labels, device)
    cases = {mode: {} for mode in MODES}
    cases.update(work={}, errors={}, prepare_s={})
    for name in _head_variants(s, only):
        variant, execution = split_variant(name)
        torch.manual_seed(0)
        if variant == 'lstm':
            model = MeanPoolLSTM(s['head_channels'], s['head_hidden'],
                                 s['head_layers'], s['num_classes'], T)
        else:
            model = MODELS.build(head_config(s['head_cfg'], variant, s))
            model.init_weights()
            if variant == REFERENCE_VARIANT:
                model.fused_sequence = False
            # eager: the head's own CUDA graphs are the device check's rows
            model.cuda_graphs = False
        model.to(device)
        cases['work'][name] = head_work(variant, model, x, B)
        loss_fn, forward_fn = _head_loss, _head_forward
        if execution == 'compiled':
            loss_fn, forward_fn = compile_fn(_head_loss), compile_fn(
                _head_forward)

        def train(model=model, variant=variant, loss_fn=loss_fn):
            model.train()
            model.zero_grad(set_to_none=True)
            x.grad = None
            if variant != 'lstm' and loss_fn is _head_loss:
                # eager: the runner's call, labels from the data samples
                losses = model.loss(x, samples)
                loss = sum(v for k, v in losses.items() if 'loss' in k)
            else:
                loss = loss_fn(model, x, target)
            loss.backward()
            return loss

        def infer(model=model, forward_fn=forward_fn):
            model.eval()
            with torch.no_grad():
                return forward_fn(model, x)

        calls = dict(train=train, infer=infer)
        try:
            if execution != 'eager':
                cases['prepare_s'][name] = {}
            for mode, call in list(calls.items()):
                if execution == 'cudagraph':
                    start = time.perf_counter()
                    # the replay owns what the graph points at
                    call = capture_cuda_graph(
                        call, keep=(model, x, target, samples))
                    cases['prepare_s'][name][mode] = (
                        time.perf_counter() - start)
                elif execution == 'compiled':
                    cases['prepare_s'][name][mode] = prepare(call, device)
                calls[mode] = call
        except Exception:
            cases['errors'][name] = traceback.format_exc()
            cases['work'].pop(name)
            cases['prepare_s'].pop(name, None)
            continue
        for mode in MODES:
            cases[mode][name] = calls[mode]
    return cases


def recognizer_config(head: str, s: dict) -> dict:
    """``Recognizer2D`` + ResNet-``e2e_depth`` (random init) + the head."""
    channels = 2048 if s['e2e_depth'] >= 50 else 512
    if head == 'tsn':
        cls_head = dict(
            type='TSNHead',
            num_classes=s['num_classes'],
            in_channels=channels,
            spatial_type='avg',
            consensus=dict(type='AvgConsensus', dim=1),
            dropout_ratio=0.4,
            init_std=0.01,
            average_clips='prob')
    elif head == 'hman':
        cls_head = copy.deepcopy(s['head_cfg'])
        cls_head.update(
            num_classes=s['num_classes'],
            in_channels=channels,
            num_segments=s['e2e_segments'])
        side = -(-s['e2e_size'] // 32)  # ResNet output stride 32
        cls_head['attention'] = _with_locations(cls_head['attention'], side)
    else:
        raise KeyError(f'unknown end-to-end variant {head!r}; '
                       f'choose from {E2E_VARIANTS}')
    return dict(
        type='Recognizer2D',
        backbone=dict(
            type='ResNet',
            depth=s['e2e_depth'],
            pretrained=None,
            norm_eval=False),
        cls_head=cls_head,
        data_preprocessor=dict(
            type='ActionDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            format_shape='NCHW'))


def _quiet_init(model) -> None:
    """``init_weights`` without mmengine's per-parameter INFO report."""
    import logging

    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


def _e2e_cases(s: dict, only: Optional[str]) -> Dict[str, dict]:
    from mmaction.registry import MODELS
    from mmengine.optim import OptimWrapper
    device = s['device']
    B, T, S = s['e2e_batch'], s['e2e_segments'], s['e2e_size']
    gen = torch.Generator().manual_seed(0)
    clips = [
        torch.randint(0, 256, (T, 3, S, S), generator=gen, dtype=torch.uint8)
        for _ in range(B)
    ]
    labels = torch.arange(B) % s['num_classes']
    cases = {mode: {} for mode in MODES}
    for variant in E2E_VARIANTS:
        if only is not None and variant != only:
            continue
        torch.manual_seed(0)
        model = MODELS.build(recognizer_config(variant, s))
        _quiet_init(model)
        model.to(device)
        optim = OptimWrapper(
            torch.optim.SGD(
                model.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-4),
            clip_grad=dict(max_norm=20, norm_type=2))

        def data():
            return dict(
                inputs=list(clips), data_samples=_samples(labels, 'cpu'))

        def train(model=model, optim=optim):
            model.train()
            model.train_step(data(), optim)

        def infer(model=model):
            model.eval()
            with torch.no_grad():
                model.test_step(data())

        cases['train'][variant] = train
        cases['infer'][variant] = infer
    return cases


def build_cases(group: str,
                settings: dict,
                only: Optional[str] = None) -> Dict[str, Dict[str, Callable]]:
    """``{mode: {variant: fn}}`` for ``group`` in ``('head', 'e2e')``;
    the head group also has ``'work'``: ``{variant: {mode: {'flops',
    'bytes'}}}``, ``'errors'``: ``{variant: traceback}`` and
    ``'prepare_s'``: ``{variant: {mode: seconds}}``."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    if group == 'head':
        return _head_cases(settings, only)
    if group == 'e2e':
        return _e2e_cases(settings, only)
    raise KeyError(f"benchmark group must be 'head' or 'e2e', got {group!r}")
