"""The arithmetic floor of a head: what it must compute and move, and the
time that takes on this machine.

**Work** (from the shapes of the built module and of its input, never
from a run):

* ``flops``: the multiply-adds of every matrix product of the head (GEMMs,
  batched GEMMs, ``einsum``), 2 FLOPs each, in the cheapest exact form the
  library knows (the input projection folded into the attention keys, see
  :mod:`hman_mmaction.models.attention`). Element-wise work (gates,
  ``tanh``, softmax, means) is not counted: it is small next to the GEMMs
  or it is memory traffic, which the second term covers. Backward: twice
  the forward (a gradient for each operand of every product; all of them
  require grad here), so training = 3x forward.
  ``tests/lab/test_floor.py`` checks the forward count against
  ``torch.utils.flop_counter.FlopCounterMode`` on the head itself.
* ``bytes``: compulsory traffic. Forward reads the input feature map and
  the parameters once; training also writes the gradient of the input and
  of every parameter, reads the parameters again and, when a weight
  gradient needs it (every HM-AN score: the keys, the glimpse), reads the
  feature map again. Intermediates that a fused kernel need not write
  (keys, per-step states) are not counted.

**Machine** (measured in the same run as the heads, round-robin with them,
see ``tools/benchmark.py``): ``gemm_gflops`` from one large square float
GEMM, the faster of ``torch.mm`` and, on CPU, oneDNN's GEMM (which torch
also ships; on some AMD CPUs MKL's sgemm behind ``torch.mm`` runs at about
half of it), ``stream_gbps`` from one large copy (read + write).

**Floor**: ``max(flops / gemm rate, bytes / stream rate)`` (a roofline):
the time of the head's arithmetic run as one large GEMM, or of its
compulsory traffic, whichever is longer. ``x floor`` = measured / floor.
"""
from typing import Dict

import torch
import torch.nn as nn


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _linear_flops(linear: nn.Linear, rows: int) -> int:
    return 2 * rows * linear.in_features * linear.out_features


def hman_head_flops(head, views: int, locations: int) -> int:
    """Forward FLOPs of ``HMANHead.run`` over ``views`` sequences of
    ``head.num_segments`` frames of ``locations`` positions."""
    from hman_mmaction.models.attention import (BilinearScore, ContentScore,
                                                GumbelHardAttention,
                                                LocationScore)
    from hman_mmaction.models.temperature import AdaptiveTemperature
    V, T, K = views, head.num_segments, locations
    rnn, attention = head.rnn, head.attention
    C = head.in_channels
    proj = head.feat_proj if isinstance(head.feat_proj, nn.Linear) else None
    D = proj.out_features if proj is not None else C
    H, L = rnn.hidden_size, rnn.num_layers
    Q = L * H if head.attention_query == 'all' else H
    score = attention.score
    flops = 0
    # before the loop: keys of every location, frame means projected,
    # initial state
    if isinstance(score, ContentScore):
        A = score.key.out_features
        if proj is not None:
            flops += 2 * A * D * C  # W_a P
        flops += 2 * V * T * K * C * A  # (W_a P) a'
    if proj is not None:
        flops += 2 * V * T * C * D  # P mean_k a'
    if head.init_state_mode == 'mean':
        flops += sum(
            _linear_flops(m[0], V) for m in (head.init_h, head.init_c))
    # per step
    step = 0
    if isinstance(score, ContentScore):
        A = score.key.out_features
        step += 2 * V * Q * A + 2 * V * K * A  # W_h h; w^T tanh(.)
    elif isinstance(score, BilinearScore):
        step += 2 * V * Q * D + 2 * V * K * C  # W_b h; a^T u
        if proj is not None:
            step += 2 * V * D * C  # P^T u
    elif isinstance(score, LocationScore):
        step += 2 * V * Q * K
    if isinstance(attention, GumbelHardAttention) and isinstance(
            attention.temperature, AdaptiveTemperature):
        step += 2 * V * Q
    step += 2 * V * K * C  # glimpse sum_k alpha_k a'_k
    if proj is not None:
        step += 2 * V * C * D  # P x_hat
    step += sum(_linear_flops(cell, V) for cell in rnn.cells)
    for detector in rnn.boundaries:
        if isinstance(
                getattr(detector, 'temperature', None), AdaptiveTemperature):
            step += 2 * V * H
    flops += T * step
    # after the loop: output module, classifiers
    if rnn.output == 'gated':
        flops += 2 * V * T * (L * H) * L  # gates
        flops += 2 * V * T * L * H * rnn.output_size  # W_out^l h^l
    flops += _linear_flops(head.fc_cls, V * T)
    for extra in (head.fc_glimpse, head.fc_aux):
        if extra is not None:
            flops += _linear_flops(extra, V * T)
    return flops


def lstm_flops(model, views: int) -> int:
    """Forward FLOPs of ``MeanPoolLSTM`` (fused ``nn.LSTM`` + classifier)
    over ``views`` sequences."""
    lstm = model.lstm
    T, H = model.segments, lstm.hidden_size
    flops = 0
    for layer in range(lstm.num_layers):
        inputs = lstm.input_size if layer == 0 else H
        flops += 2 * views * T * 4 * H * (inputs + H)
    return flops + _linear_flops(model.fc, views)


def work(model, x: torch.Tensor, views: int, rereads_input: bool,
         flops_forward: int) -> Dict[str, Dict[str, float]]:
    """``{'train': {...}, 'infer': {...}}`` with ``flops`` and ``bytes``."""
    item = x.element_size()
    x_bytes = x.numel() * item
    p_bytes = _params(model) * next(model.parameters()).element_size()
    infer = dict(flops=flops_forward, bytes=x_bytes + p_bytes)
    train = dict(
        flops=3 * flops_forward,
        bytes=(x_bytes * (3 if rereads_input else 2) + 3 * p_bytes))
    return dict(train=train, infer=infer)


def head_work(variant: str, model, x: torch.Tensor,
              views: int) -> Dict[str, Dict[str, float]]:
    """The work of one benchmark head variant on input ``x`` ``[V*T, C,
    h, w]``."""
    if variant == 'lstm':
        return work(model, x, views, False, lstm_flops(model, views))
    locations = x.shape[-1] * x.shape[-2]
    return work(model, x, views, True, hman_head_flops(model, views,
                                                       locations))


def floor_ms(figures: dict, machine: dict) -> Dict[str, float]:
    """Compute, memory and floor milliseconds of ``figures`` (``flops``,
    ``bytes``) on ``machine`` (``gemm_gflops``, ``stream_gbps``)."""
    compute = figures['flops'] / (machine['gemm_gflops'] * 1e6)
    memory = figures['bytes'] / (machine['stream_gbps'] * 1e6)
    return dict(
        compute_ms=compute, memory_ms=memory, floor_ms=max(compute, memory))


def machine_probes(device: str, tiny: bool = False):
    """Callables timed with the heads: one large square GEMM and one large
    copy, and the work each does (``flops`` / ``bytes``)."""
    n = 256 if tiny else (4096 if device.startswith('cuda') else 1024)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device)
    b = torch.randn(n, n, generator=gen).to(device)
    out = torch.empty(n, n, device=device)
    elements = (1 << 18) if tiny else (
        1 << 27 if device.startswith('cuda') else 1 << 24)
    src = torch.empty(elements, device=device).uniform_()
    dst = torch.empty_like(src)

    def gemm():
        torch.mm(a, b, out=out)

    def stream():
        dst.copy_(src)

    sizes = dict(
        gemm_n=n,
        gemm_flops=2 * n**3,
        stream_bytes=2 * elements * src.element_size())
    probes = dict(gemm=gemm, stream=stream)
    onednn = None if device.startswith('cuda') else onednn_probe(n)
    if onednn is not None:  # torch's other CPU GEMM
        probes['gemm_onednn'] = onednn
    return probes, sizes


def machine_rates(times: dict, sizes: dict) -> dict:
    """GFLOP/s and GB/s from the probes' median milliseconds; the GEMM
    rate is the faster of ``torch.mm`` and oneDNN's GEMM (both reported)."""
    by_backend = {
        name: sizes['gemm_flops'] / (times[probe]['median_ms'] * 1e6)
        for name, probe in (('torch_mm', 'gemm'), ('onednn', 'gemm_onednn'))
        if probe in times
    }
    return dict(
        gemm_gflops=max(by_backend.values()),
        gemm_gflops_by_backend=by_backend,
        stream_gbps=sizes['stream_bytes'] /
        (times['stream']['median_ms'] * 1e6),
        **sizes)


def onednn_probe(n: int):
    """A callable computing one ``n^3`` float32 product with oneDNN's GEMM
    (``torch.ops.mkldnn._linear_pointwise``), or None where torch does not
    have it."""
    if not (torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, '_linear_pointwise')):
        return None
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(n, n, generator=gen)
    b = torch.randn(n, n, generator=gen)

    def gemm():
        torch.ops.mkldnn._linear_pointwise(a, b, None, 'none', [], '')

    return gemm
