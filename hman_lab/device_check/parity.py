"""The head's fast path against its reference loop on one device, in float32
and under float16 / bfloat16 autocast (part b of ``tools/device_check.py``).

For a head config, both paths run the same training forward (same seed:
same dropout and Gumbel noise) on the same features ``x`` that need a
gradient, then the backward of ``sum(cls_scores^2) + loss_attention``;
compared are the outputs (class scores, attention, boundaries, glimpses) and
the gradients of every parameter and of ``x``. The error of a tensor is
normalised by the largest magnitude of the reference's::

    err(a, b) = max |a - b| / max(max |b|, 1e-12)

and a case's error is the largest over its tensors.

* float32: ``err <= 1e-4`` (values) and ``<= 1e-3`` (gradients: sums over
  up to ``T * K`` terms in another order);
* autocast (``dtype``): both paths round, in different places, so the
  bound is the reference's own rounding: ``err(fast, ref) <= max(floor,
  4 * err(ref, ref in float32))`` with ``floor`` 1e-2 (float16) or 5e-2
  (bfloat16).

Hard decisions (Gumbel boundaries, hard attention) can flip between two
roundings of a logit near its threshold; a flip changes everything after
it and says nothing about the paths. Such a case reports the number of
flipped decisions and is ``inconclusive`` rather than compared; the
Att-LSTM head (``NoBoundary``, soft attention: no hard decision) is the
strict check under autocast.
"""
import copy
import math
from typing import Dict, List, Optional

import torch
import torch.nn as nn

OUTPUTS = ('cls_scores', 'attention', 'boundaries', 'glimpses')
FP32_TOL = dict(values=1e-4, grads=1e-3)
AUTOCAST_FLOOR = {torch.float16: 1e-2, torch.bfloat16: 5e-2}
PRECISIONS = (('fp32', None), ('fp16 autocast', torch.float16),
              ('bf16 autocast', torch.bfloat16))


def error(a: torch.Tensor, b: torch.Tensor) -> float:
    """``max |a - b| / max |b|`` in float64 (see the module doc)."""
    a, b = a.detach().double(), b.detach().double()
    scale = max(b.abs().max().item(), 1e-12) if b.numel() else 1.0
    return (a - b).abs().max().item() / scale if b.numel() else 0.0


def run_path(head: nn.Module,
             x: torch.Tensor,
             fused: bool,
             dtype: Optional[torch.dtype],
             seed: int = 1) -> Dict:
    """Outputs and gradients of one training forward + backward of
    ``head`` on ``x`` on one path, under ``dtype`` autocast (None:
    float32)."""
    head.fused_sequence = fused
    head.zero_grad(set_to_none=True)
    x.grad = None
    torch.manual_seed(seed)  # dropout and Gumbel noise, CPU and CUDA
    device = x.device.type
    with torch.autocast(
            device, dtype=dtype or torch.float32, enabled=dtype is not None):
        out = head.run(x)
        coverage = out.attention.flatten(2).float().sum(dim=1)  # [V, K]
        loss = (out.cls_scores.float()**2).sum() + (1 - coverage).pow(2).sum()
    loss.backward()
    result = {name: getattr(out, name).detach() for name in OUTPUTS}
    result['grads'] = {
        name: p.grad.detach().clone()
        for name, p in head.named_parameters() if p.grad is not None
    }
    result['grads']['input'] = x.grad.detach().clone()
    return result


def compare(fast: Dict, ref: Dict) -> Dict:
    """``values`` and ``grads`` errors of ``fast`` against ``ref`` and
    the tensor of each largest error; ``flips``: hard decisions that
    differ (boundaries; attention of one-hot weights)."""
    values = {name: error(fast[name], ref[name]) for name in OUTPUTS}
    missing = set(ref['grads']) ^ set(fast['grads'])
    grads = {
        name: error(fast['grads'][name], grad)
        for name, grad in ref['grads'].items() if name in fast['grads']
    }
    flips = int((fast['boundaries'] != ref['boundaries']).sum().item())
    weights = ref['attention'].flatten(2)
    if bool(((weights == 0) | (weights == 1)).all()):  # one-hot weights
        flips += int((fast['attention'].flatten(2).argmax(-1)
                      != weights.argmax(-1)).sum().item())
    worst_v = max(values, key=values.get)
    worst_g = max(grads, key=grads.get) if grads else None
    return dict(
        values=values[worst_v],
        worst_value=worst_v,
        grads=grads[worst_g] if grads else math.nan,
        worst_grad=worst_g,
        missing_grads=sorted(missing),
        flips=flips)


def check_head(cfg: dict,
               name: str,
               x: torch.Tensor,
               precisions=PRECISIONS) -> List[Dict]:
    """One row per precision for the head built from ``cfg`` (on
    ``x.device``): errors, bound, status (``passed``, ``failed``,
    ``inconclusive``)."""
    from mmaction.registry import MODELS
    torch.manual_seed(0)
    head = MODELS.build(copy.deepcopy(cfg))
    head.init_weights()
    nn.init.normal_(head.fc_cls.weight)  # not ~0: sizeable gradients
    head.to(x.device).train()
    head.cuda_graphs = False  # the two eager paths (graphs: part g)
    head.fused_sequence = True
    with torch.enable_grad():
        path = head.plan(x).path
    if path != 'fast':
        from hman_mmaction.models.deferred import private_api_problem
        raise RuntimeError(
            f'{name}: a training step takes the {path!r} plan, not the fast '
            f'path (fused_sequence={head.fused_sequence}; private torch '
            f'APIs: {private_api_problem() or "fine"}); nothing to compare')
    rows = []
    ref32 = run_path(head, x, False, None)
    for label, dtype in precisions:
        fast = run_path(head, x, True, dtype)
        ref = ref32 if dtype is None else run_path(head, x, False, dtype)
        result = compare(fast, ref)
        if dtype is None:
            bound = dict(FP32_TOL)
        else:
            own = compare(ref, ref32)
            bound = dict(
                values=max(AUTOCAST_FLOOR[dtype], 4 * own['values']),
                grads=max(AUTOCAST_FLOOR[dtype], 4 * own['grads']))
            result['ref_vs_fp32'] = dict(
                values=own['values'], grads=own['grads'])
        if result['missing_grads']:
            status = 'failed'
        elif result['flips']:
            status = 'inconclusive'
        else:
            ok = (
                result['values'] <= bound['values']
                and result['grads'] <= bound['grads'])
            status = 'passed' if ok else 'failed'
        rows.append(
            dict(
                head=name,
                precision=label,
                bound=bound,
                status=status,
                **result))
    return rows


def parity_heads(head_cfg: dict, tiny: bool) -> Dict[str, dict]:
    """The heads part b checks: the given config's head (HM-AN soft, Gumbel
    boundaries), the same with ``NoBoundary`` (Att-LSTM: no hard decision,
    the strict autocast check) and with Gumbel-hard attention; at tiny
    sizes for a CPU dry run."""
    cfg = copy.deepcopy(head_cfg)
    cfg.update(dropout_ratio=0.0)
    if tiny:
        cfg.update(in_channels=12, num_segments=4, feat_channels=6)
        cfg['rnn'] = dict(cfg['rnn'], hidden_size=8)
        cfg['attention'] = dict(cfg['attention'], hidden_channels=7)
    att_lstm = copy.deepcopy(cfg)
    att_lstm['rnn']['boundary'] = dict(type='NoBoundary')
    hard = copy.deepcopy(cfg)
    hard['attention'] = dict(
        hard['attention'],
        type='GumbelHardAttention',
        temperature=dict(type='AdaptiveTemperature'))
    return {
        'HM-AN soft (config head)': cfg,
        'Att-LSTM (NoBoundary)': att_lstm,
        'HM-AN Gumbel-hard attention': hard
    }


def run_parity(head_cfg: dict,
               device: str,
               tiny: bool,
               views: int = 2,
               side: int = 7) -> List[Dict]:
    """Every head of :func:`parity_heads` in every precision on
    ``device`` (features ``[views * T, C, side, side]``)."""
    rows = []
    for name, cfg in parity_heads(head_cfg, tiny).items():
        T, C = cfg['num_segments'], cfg['in_channels']
        s = 3 if tiny else side
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(views * T, C, s, s, generator=gen).to(device)
        rows += check_head(cfg, name, x.requires_grad_(True))
    return rows
