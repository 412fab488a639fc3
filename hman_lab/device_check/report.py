"""The device check's report: ``report.json`` (every figure) and
``report.md`` (the acceptance block, one table per part, then every
failure with its traceback), written also when parts fail."""
import json
import os.path as osp
import traceback
from typing import Dict

from .parts import PARTS


def _fmt(value, spec='.3g'):
    if value is None:
        return '—'
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def _table(headers, rows) -> str:
    lines = ['| ' + ' | '.join(headers) + ' |', '|' + '---|' * len(headers)]
    lines += ['| ' + ' | '.join(_fmt(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def section_a(r) -> str:
    rows = [[t['name'], t['outcome'], f'{t["seconds"]:.2f}']
            for t in r.get('tests', [])]
    counts = ', '.join(f'{n} {k}' for k, n in r.get('counts', {}).items())
    return (f'`python -m {r.get("command", "pytest")}`: {counts or "none"}'
            '\n\n' + _table(('test', 'outcome', 's'), rows))


def section_b(r) -> str:
    rows = [[
        x['head'], x['precision'], x['status'], f'{x["values"]:.2e}',
        x['worst_value'], f'{x["grads"]:.2e}', x['worst_grad'],
        f'{x["bound"]["values"]:.1e} / {x["bound"]["grads"]:.1e}', x['flips']
    ] for x in r.get('rows', [])]
    return (
        f'Device: {r.get("device")}. Error: max |fast - reference| / '
        'max |reference| over the outputs (values) and over the '
        'gradients of every parameter and the input; bound: float32 '
        'fixed, autocast max(floor, 4x the reference\'s own error '
        'against float32) (`hman_lab/device_check/parity.py`).\n\n' + _table(
            ('head', 'precision', 'status', 'values err', 'worst', 'grads err',
             'worst', 'bound (values / grads)', 'hard flips'), rows))


def section_c(r) -> str:
    parts = []
    for name, run in r.get('runs', {}).items():
        parts.append(f'`{run["command"]}` (exit {run["exit_code"]})')
        if run.get('tables'):
            parts.append(run['tables'].replace('### ', '#### '))
    return '\n\n'.join(parts)


def section_d(r) -> str:
    runs = r.get('runs', {})
    rows = []
    for name in ('hman', 'hman_eager', 'tsn'):
        run = runs.get(name)
        if run is None:
            continue
        graphs = run.get('graphs') or {}
        rows.append([
            name, run['config'], run['iterations'],
            '/'.join(str(b) for b in sorted(set(run['batch_sizes']))),
            f'{run["frame_size"]} px x {run["segments"]}',
            run['optim_wrapper'],
            _fmt(run['first_loss'], '.3f'),
            _fmt(run['last_loss'], '.3f'), run['finite'], run['falling'],
            _fmt(run['median_ms'], '.1f'), run['timed_iterations'],
            _fmt(run['peak_gpu_mib'], '.0f'),
            _fmt(graphs.get('option')),
            _fmt(graphs.get('keys')),
            _fmt(graphs.get('capture_total_s'), '.2f')
        ])
    text = (f'Data: {r.get("data", {}).get("videos")} generated videos '
            f'({r.get("data", {}).get("size")} px, UCF101 layout, '
            f'{len(r.get("data", {}).get("classes", []))} classes), the train '
            'list repeated to one epoch of the full batches and a smaller '
            'last one; `pretrained=None` (no ImageNet download). Time: '
            'median per iteration of the full batches after the warm-up; '
            'peak memory: read by the check after every iteration.\n\n' +
            _table(('run', 'config', 'iterations', 'batches', 'frames',
                    'optim wrapper', 'first loss', 'last loss', 'finite',
                    'falling', 'ms/iter', 'timed', 'peak GPU MiB',
                    'cuda_graphs', 'graph keys (views)', 'capture s'), rows))
    for name, ratio in r.get('ratios', {}).items():
        text += (f'\n\n{name} time per iteration x TSN: '
                 f'{ratio["time_per_iter_vs_tsn"]:.2f}; peak memory x TSN: '
                 f'{_fmt(ratio["peak_memory_vs_tsn"], ".2f")}')
    return text


def section_g(r) -> str:
    parts = [
        f'Device: {r.get("device")}. Training step (`loss()` + '
        'backward), median ms of the round-robin repeats; ops: aten ops '
        'of one step (views left out); peak: one step\'s '
        '`max_memory_allocated` above what was allocated before '
        '(`hman_lab/device_check/graphs.py`).'
    ]
    for label, row in r.get('rows', {}).items():
        rows = [[
            name, f'{v["median_ms"]:.2f}',
            _fmt(v.get('vs_lstm'), '.2f'),
            _fmt(v.get('vs_lstm_graph'), '.2f'),
            _fmt(v.get('ops')),
            _fmt(v.get('peak_mib'), '.0f'),
            _fmt(v.get('graphed')),
            _fmt(v.get('capture_s'))
        ] for name, v in row.get('variants', {}).items()]
        parts.append(f'#### {row["views"]} views, {row["dtype"]}\n\n' +
                     _table(('variant', 'ms', 'x LSTM', 'x graphed LSTM',
                             'ops/step', 'peak MiB', 'graphed',
                             'capture s'), rows))
    for name in ('parity', 'stress'):
        if name in r:
            parts.append(f'{name}: ' + ', '.join(
                f'{k} {_fmt(v)}' for k, v in r[name].items() if k != 'errors'))
    return '\n\n'.join(parts)


def section_k(r) -> str:
    if r.get('status') == 'skipped':
        return f'Skipped: {r.get("why")}'
    step = r.get('step') or {}
    return (f'{r.get("views")} views, {r.get("dtype")} autocast: first step '
            f'(compile included) {_fmt(r.get("first_step_s"), ".1f")} s '
            f'(forward compile {_fmt(r.get("forward_compile_s"))} s), then '
            f'{_fmt(step.get("median_ms"), ".2f")} ms per step.')


def section_acceptance(block) -> str:
    rows = [[
        c['id'], c['what'],
        _fmt(c['value'], '.3g'), f'{c["op"]} {c["target"]}' +
        (f' (moonshot <= {c["moonshot"]})' if 'moonshot' in c else ''), {
            True: 'met',
            False: 'NOT met',
            None: 'not measured'
        }[c['met']], c['part']
    ] for c in block.get('checks', [])]
    note = block.get('note')
    return ((f'{note}.\n\n' if note else '') + _table(
        ('target', 'figure', 'value', 'target', 'verdict', 'part'), rows))


SECTIONS = dict(
    a=section_a,
    b=section_b,
    c=section_c,
    d=section_d,
    g=section_g,
    k=section_k)


def write_report(report: Dict, out: str) -> None:
    with open(osp.join(out, 'report.json'), 'w') as f:
        json.dump(report, f, indent=2, default=str)
    env = report.get('environment', {})
    lines = [
        '# Device check' + (' (dry run, CPU)' if report['dry_run'] else ''),
        '', ', '.join(f'{k}: {v}' for k, v in env.items() if v is not None),
        '',
        _table(
            ('part', 'what', 'status', 's', 'limit s'),
            [[p, PARTS[p][0], r['status'],
              r.get('seconds'),
              r.get('limit_s')] for p, r in report['parts'].items()]), ''
    ]
    if 'acceptance' in report:
        lines += [
            '## Acceptance (issue 33)', '',
            section_acceptance(report['acceptance']), ''
        ]
    for part, result in report['parts'].items():
        lines += [f'## {part}. {PARTS[part][0]}', '']
        try:
            lines.append(SECTIONS[part](result))
        except Exception:  # a part's odd result must not lose the report
            lines.append('(section failed to render: ' +
                         traceback.format_exc(limit=2) + ')')
        lines.append('')
    lines += ['## e. Failures', '']
    failures = [(p, e) for p, r in report['parts'].items()
                for e in r.get('errors', [])]
    if report.get('install', {}).get('status') == 'failed':
        failures.insert(0, ('install',
                            dict(
                                where='--install-wheels',
                                traceback=report['install'].get('output')
                                or report['install'].get('error'))))
    if not failures:
        lines.append('None.')
    for part, error in failures:
        lines += [
            f'### {part}: {error["where"]}', '', '```',
            str(error['traceback']).strip(), '```', ''
        ]
    with open(osp.join(out, 'report.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
