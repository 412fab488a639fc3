"""The ``acceptance`` block of the device check's report (issue 33's
targets T1-T6): every figure next to its target, read from the parts'
results of the same run.

Each entry: ``id`` (T1 ... T6), ``what``, ``value``, ``target``, ``op``
(``'<='`` or ``'=='``), ``met`` (True / False; None where the figure was
not measured: its part failed or did not run, or a dry run on the CPU,
where the figures are not the targets' own), ``part`` (where it comes
from) and, for T2, the ``moonshot``.
"""
from typing import Dict, List, Optional

#: (id, key, what, op, target, part)
TARGETS = (
    ('T1', 'head_fp32_vs_lstm',
     'head training step, 8 views, fp32: graphed head x eager cuDNN LSTM',
     '<=', 1.6, 'g'),
    ('T1', 'head_fp16_ms',
     'head training step, 16 views, fp16 autocast: graphed head, ms', '<=',
     12.0, 'g'),
    ('T2', 'e2e_vs_tsn',
     'configs/hman_ucf101.py, 224 px, AMP, tools/train.py code path: time '
     'per iteration x TSN', '<=', 1.15, 'd'),
    ('T3', 'capture_s_per_key', 'capture per shape key (largest), s', '<=',
     5.0, 'g'),
    ('T3', 'capture_s_first_epoch',
     'capture added to the first epoch (all keys of the training run), s',
     '<=', 15.0, 'd'),
    ('T3', 'compile_s',
     "cuda_graphs='compile': first training step (compile included), s", '<=',
     120.0, 'k'),
    ('T4', 'parity_values',
     'graphed vs eager, fp32: values, largest relative error', '<=', 1e-5,
     'g'),
    ('T4', 'parity_grads',
     'graphed vs eager, fp32: gradients, largest relative error', '<=', 1e-5,
     'g'),
    ('T4', 'parity_flips',
     'graphed vs eager: hard decisions that differ under the same noise', '==',
     0, 'g'),
    ('T5', 'stress_cuda_errors',
     '50 replays with empty_cache() between: CUDA errors', '==', 0, 'g'),
    ('T5', 'stress_extra_gib',
     '50 replays with empty_cache() between: memory left allocated, GiB', '<=',
     1.0, 'g'),
    ('T6', 'fallback_vs_reference',
     'eager fallback step (cuda_graphs=False) x reference loop, 8 views fp32',
     '<=', 1.05, 'g'),
)
MOONSHOT = dict(e2e_vs_tsn=1.06)


def _get(data, *path):
    for key in path:
        if not isinstance(data, dict) or data.get(key) is None:
            return None
        data = data[key]
    return data


def _ratio(a, b) -> Optional[float]:
    return None if a is None or not b else a / b


def figures(parts: Dict) -> Dict[str, Optional[float]]:
    """The value of every target's figure from the parts' results (None
    where missing)."""
    g, d, k = (parts.get(p) or {} for p in 'gdk')
    fp32 = _get(g, 'rows', 'fp32', 'variants') or {}
    fp16 = _get(g, 'rows', 'fp16', 'variants') or {}
    captures = [
        s for row in (fp32, fp16)
        for s in (_get(row, 'option', 'capture_s') or [])
    ]
    graphs = _get(d, 'runs', 'hman', 'graphs') or {}
    return dict(
        head_fp32_vs_lstm=_get(fp32, 'option', 'vs_lstm'),
        head_fp16_ms=_get(fp16, 'option', 'median_ms'),
        e2e_vs_tsn=_ratio(
            _get(d, 'runs', 'hman', 'median_ms'),
            _get(d, 'runs', 'tsn', 'median_ms')),
        capture_s_per_key=max(captures) if captures else None,
        # None when nothing was captured (the run fell back to eager)
        capture_s_first_epoch=graphs.get('capture_total_s')
        if graphs.get('keys') else None,
        compile_s=_get(k, 'first_step_s'),
        parity_values=_get(g, 'parity', 'values'),
        parity_grads=_get(g, 'parity', 'grads'),
        parity_flips=_get(g, 'parity', 'flips'),
        stress_cuda_errors=_get(g, 'stress', 'cuda_errors'),
        stress_extra_gib=_get(g, 'stress', 'extra_gib'),
        fallback_vs_reference=_ratio(
            _get(fp32, 'eager', 'median_ms'),
            _get(fp32, 'reference', 'median_ms')))


def _met(value, op: str, target) -> Optional[bool]:
    if value is None:
        return None
    return value <= target if op == '<=' else value == target


def acceptance(report: Dict) -> Dict:
    """The block (module doc) of a report with its ``parts``."""
    values = figures(report.get('parts', {}))
    dry = bool(report.get('dry_run'))
    checks: List[Dict] = []
    for tid, key, what, op, target, part in TARGETS:
        value = values[key]
        entry = dict(
            id=tid,
            key=key,
            what=what,
            value=value,
            target=target,
            op=op,
            met=None if dry else _met(value, op, target),
            part=part)
        if key in MOONSHOT:
            entry['moonshot'] = MOONSHOT[key]
            entry['moonshot_met'] = (None if dry else _met(
                value, '<=', MOONSHOT[key]))
        checks.append(entry)
    unmeasured = sorted({c['id'] for c in checks if c['met'] is None})
    return dict(
        measured=not dry,
        note=('dry run on the CPU: the figures are not the targets\' '
              '(no GPU)') if dry else None,
        all_met=(None if dry or unmeasured else all(c['met'] for c in checks)),
        unmeasured=unmeasured,
        checks=checks)
