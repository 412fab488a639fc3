"""The head's ``cuda_graphs`` option on one device (part g of
``tools/device_check.py``, issue 33): the head rows, graphed against eager
and against cuDNN's LSTM, the ops per step, graphed-vs-eager parity and
the replay stress test.

Rows (the config's head at its own sizes, 7x7 maps, random features that
need a gradient, the training step ``loss()`` + backward; medians of the
round-robin repeats, :mod:`hman_lab.speed.timing`):

* ``fp32``: 8 views in float32; ``fp16``: 16 views under float16 autocast;
* variants: ``option`` (the head as configured: ``cuda_graphs='auto'``,
  graphed in CUDA training), ``option_fast`` (graphed, on the fast path),
  ``eager`` (``cuda_graphs=False``: the eager fallback, the device's
  default loop), ``reference`` (the reference loop, ``fused_sequence=
  False``), ``fast`` (the fast path, the eager default before issue 33),
  ``lstm`` (cuDNN ``nn.LSTM`` of the same hidden size and depth over the
  mean-pooled features, :class:`hman_lab.speed.cases.MeanPoolLSTM`) and
  ``lstm_graph`` (the LSTM's step captured whole,
  :func:`hman_lab.speed.execution.capture_cuda_graph`);
* per variant: the median ms, the ops of one step
  (:func:`hman_lab.speed.ops.count_ops`: around a replay, the few ops
  outside the graph), the peak memory of one step
  (``torch.cuda.max_memory_allocated`` after resetting it, minus what was
  allocated before) and the capture seconds of each key.

Checks (float32, 8 views): ``parity`` (T4: the graphed step against the
eager one from the same weights and noise, relative errors of the outputs
and of every gradient, and the hard decisions that differ) and ``stress``
(T5: 50 replays with ``torch.cuda.empty_cache()`` between them: CUDA
errors and the memory left allocated beyond the first replay's).

On a CPU (``--dry-run``) every variant runs eagerly at tiny sizes (the
option says why, in ``eager_reason``) and the checks are left out.
"""
import copy
import traceback
from typing import Dict, Optional

import torch

ROWS = (('fp32', None, 8), ('fp16', torch.float16, 16))
DRY_ROWS = (('fp32', None, 2), ('fp16', torch.bfloat16, 4))
VARIANTS = dict(
    option=dict(),
    option_fast=dict(fused_sequence=True),
    eager=dict(cuda_graphs=False),
    reference=dict(cuda_graphs=False, fused_sequence=False),
    fast=dict(cuda_graphs=False, fused_sequence=True))
REPEATS, WARMUP = 25, 3
STRESS_REPLAYS = 50
TINY = dict(in_channels=32, feat_channels=16, num_segments=4, hidden=16, att=8)


def head_config(base: dict, tiny: bool, **options) -> dict:
    """The config's head (``base``), at tiny sizes for a dry run."""
    cfg = copy.deepcopy(base)
    if tiny:
        cfg.update(
            in_channels=TINY['in_channels'],
            feat_channels=TINY['feat_channels'],
            num_segments=TINY['num_segments'])
        cfg['rnn'] = dict(cfg['rnn'], hidden_size=TINY['hidden'])
        cfg['attention'] = dict(cfg['attention'], hidden_channels=TINY['att'])
    cfg.update(options)
    return cfg


def _samples(views: int, classes: int, device: str):
    from mmaction.structures import ActionDataSample
    return [
        ActionDataSample().set_gt_label(i % classes).to(device)
        for i in range(views)
    ]


def _autocast(device: str, dtype):
    return torch.autocast(
        device, dtype=dtype or torch.float32, enabled=dtype is not None)


def head_step(head, x, samples, dtype, passes=None):
    """One training step (``loss()`` and backward) under ``dtype``
    autocast; ``passes`` (a list) receives the step's outputs."""
    head.zero_grad(set_to_none=True)
    x.grad = None
    if passes is not None:
        run = type(head).run

        def spy(*args, **kwargs):
            passes.append(run(head, *args, **kwargs))
            return passes[-1]

        head.run = spy
    try:
        with _autocast(x.device.type, dtype):
            losses = head.loss(x, samples)
            loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
    finally:
        if passes is not None:
            del head.run
    return losses


def _lstm_step(model, x, target, dtype):
    """The LSTM's training step (in float32 on a CPU: oneDNN's LSTM takes
    no bfloat16 autocast)."""
    device = x.device.type
    dtype = dtype if device == 'cuda' else None

    def step():
        import torch.nn.functional as F
        model.zero_grad(set_to_none=True)
        x.grad = None
        with _autocast(device, dtype):
            loss = F.cross_entropy(model(x), target)
        loss.backward()
        return loss

    return step


def _peak_mib(call, device: str) -> Optional[float]:
    if device != 'cuda':
        return None
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    call()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - before) / 2**20


def build(cfg: dict, device: str):
    from mmaction.registry import MODELS
    torch.manual_seed(0)
    head = MODELS.build(copy.deepcopy(cfg))
    head.init_weights()
    return head.to(device).train()


def run_row(base: dict, device: str, views: int, dtype, tiny: bool,
            repeats: int, warmup: int) -> Dict:
    """The variants of one row (module doc), timed round-robin."""
    from ..speed.cases import MeanPoolLSTM
    from ..speed.execution import capture_cuda_graph
    from ..speed.ops import count_ops
    from ..speed.timing import time_round_robin
    cfg = head_config(base, tiny)
    T, C = cfg['num_segments'], cfg['in_channels']
    side = 3 if tiny else 7
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(
        views * T, C, side, side, generator=gen).to(device).requires_grad_()
    classes = cfg['num_classes']
    samples = _samples(views, classes, device)
    target = (torch.arange(views) % classes).to(device)
    heads, calls = {}, {}
    for name, options in VARIANTS.items():
        head = build(dict(cfg, **options), device)
        heads[name] = head
        calls[name] = (lambda head=head: head_step(head, x, samples, dtype))
    torch.manual_seed(0)
    lstm = MeanPoolLSTM(C, cfg['rnn']['hidden_size'],
                        cfg['rnn'].get('num_layers', 2), classes, T).to(device)
    calls['lstm'] = _lstm_step(lstm, x, target, dtype)
    errors = {}
    if device == 'cuda':
        graph_lstm = copy.deepcopy(lstm)
        try:
            calls['lstm_graph'] = capture_cuda_graph(
                _lstm_step(graph_lstm, x, target, dtype),
                keep=(graph_lstm, x, target))
        except Exception:
            errors['lstm_graph'] = traceback.format_exc()
    for name in VARIANTS:  # the first step captures the option's graphs
        calls[name]()
    times = time_round_robin(calls, device, repeats, warmup)
    rows = {}
    for name, figures in times.items():
        head = heads.get(name)
        graphs = None if head is None else head._graphs
        rows[name] = dict(
            figures,
            ops=count_ops(calls[name])['ops'],
            peak_mib=_peak_mib(calls[name], device),
            graphed=None if graphs is None else bool(graphs.steps),
            capture_s=None if graphs is None else
            [round(s, 3) for s in graphs.capture_seconds.values()])
    lstm_ms = rows['lstm']['median_ms']
    for figures in rows.values():
        figures['vs_lstm'] = figures['median_ms'] / lstm_ms
        if 'lstm_graph' in rows:
            figures['vs_lstm_graph'] = (
                figures['median_ms'] / rows['lstm_graph']['median_ms'])
    return dict(
        views=views,
        dtype='float32' if dtype is None else str(dtype).split('.')[-1],
        variants=rows,
        errors=errors,
        heads=heads,
        x=x,
        samples=samples)


def parity(heads: Dict, x, samples, seeds=(3, 4, 5)) -> Dict:
    """T4: the graphed head (``option``) against the eager one from the
    same weights, buffers and noise: the worst relative error of the
    outputs, the losses and every gradient, and the differing hard
    decisions (boundaries; one-hot attention)."""
    from .parity import error
    graphed, eager = heads['option'], heads['eager']
    eager.load_state_dict(graphed.state_dict())
    worst = dict(values=0.0, grads=0.0, flips=0)
    for seed in seeds:
        results = []
        for head in (graphed, eager):
            passes = []
            torch.manual_seed(seed)
            losses = head_step(head, x, samples, None, passes)
            (out, ) = passes
            grads = {
                n: p.grad.detach().clone()
                for n, p in head.named_parameters() if p.grad is not None
            }
            grads['input'] = x.grad.detach().clone()
            values = {
                k: getattr(out, k).detach().clone()
                for k in ('cls_scores', 'attention', 'boundaries', 'glimpses')
            }
            values.update({k: v.detach() for k, v in losses.items()})
            results.append((values, grads))
        (gv, gg), (ev, eg) = results
        worst['values'] = max(worst['values'],
                              max(error(gv[k], ev[k]) for k in ev))
        worst['grads'] = max(worst['grads'],
                             max(error(gg[k], eg[k]) for k in eg))
        worst['flips'] += int((gv['boundaries']
                               != ev['boundaries']).sum().item())
        if set(gg) != set(eg):
            worst['missing_grads'] = sorted(set(gg) ^ set(eg))
    worst['graphed'] = bool(graphed._graphs.steps)
    return worst


def stress(head, x, samples, replays: int = STRESS_REPLAYS) -> Dict:
    """T5: ``replays`` steps of the graphed head with ``empty_cache()``
    before each: CUDA errors and the allocated memory they leave."""
    torch.cuda.synchronize()
    head_step(head, x, samples, None)
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    errors, finite = [], True
    for _ in range(replays):
        torch.cuda.empty_cache()
        try:
            losses = head_step(head, x, samples, None)
            finite = finite and all(
                bool(torch.isfinite(v).all()) for v in losses.values())
        except Exception:
            errors.append(traceback.format_exc()[-2000:])
            break
    try:
        torch.cuda.synchronize()
    except Exception:
        errors.append(traceback.format_exc()[-2000:])
    extra = (torch.cuda.memory_allocated() - before) / 2**30
    return dict(
        replays=replays,
        errors=errors,
        cuda_errors=len(errors),
        finite=finite,
        extra_gib=extra,
        graphed=bool(head._graphs.steps))


def run_graph_rows(base: dict, device: str, tiny: bool) -> Dict:
    """Both rows, then (CUDA only) parity and stress on the fp32 row."""
    result = dict(device=device, rows={}, errors=[])
    repeats, warmup = (2, 1) if tiny else (REPEATS, WARMUP)
    for label, dtype, views in (DRY_ROWS if tiny else ROWS):
        row = run_row(base, device, views, dtype, tiny, repeats, warmup)
        heads, x, samples = (row.pop(k) for k in ('heads', 'x', 'samples'))
        for name, tb in row.pop('errors').items():
            result['errors'].append(
                dict(where=f'{label}: {name}', traceback=tb))
        result['rows'][label] = row
        if label == 'fp32' and device == 'cuda':
            result['parity'] = parity(heads, x, samples)
            result['stress'] = stress(heads['option'], x, samples)
        del heads, x, samples
        if device == 'cuda':
            torch.cuda.empty_cache()
    return result
