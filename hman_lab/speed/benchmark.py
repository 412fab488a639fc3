"""The speed benchmark (``tools/benchmark.py``): the HM-AN head against its
own arithmetic floor and a fused LSTM, and a whole Recognizer2D (ResNet)
with the HM-AN head against TSN at one or more frame sizes.

:func:`run_speed_benchmark` times every variant of :mod:`.cases` (round
robin, :mod:`.timing`), measures the machine's GEMM rate and copy
bandwidth in the same run (:mod:`.floor`), prints the tables (median
milliseconds, ratios, peak memory, ``x floor``, the execution table of
:mod:`.execution`, the profile of :mod:`.profile`) and the targets, and
writes every figure to ``--json``.
"""
import datetime
import json
import os
import os.path as osp
import platform

import torch
from mmengine.config import Config

from hman_mmaction.engine.launch import check_output_file
from ..tables import NA, markdown_table
from .cases import MODES, build_cases
from .execution import (EXECUTION_LABELS, EXECUTIONS, split_variant,
                        variant_name)
from .floor import floor_ms, machine_probes, machine_rates
from .ops import count_ops
from .profile import CATEGORIES, profile_step
from .timing import probe_memory, time_round_robin

# issue 15; the head targets are for the default config's head
# (``hman_soft``), the end-to-end ones at the largest --e2e-size
TARGETS = dict(
    head_train_vs_floor=1.5,
    head_train_vs_lstm=2.0,
    e2e_train_vs_tsn=1.05,
    e2e_infer_vs_tsn=1.05)
LABELS = dict(
    hman_soft='HM-AN soft',
    hman_hard='HM-AN Gumbel-hard + adaptive tau',
    attlstm='Att-LSTM (NoBoundary)',
    hman_soft_reference='HM-AN soft, reference loop',
    lstm='fused nn.LSTM (mean-pooled; cuDNN on CUDA)',
    hman='Recognizer2D + HM-AN head',
    tsn='Recognizer2D + TSN head')
TINY = dict(
    head_batch=2,
    head_segments=4,
    head_channels=32,
    head_map=3,
    head_hidden=16,
    head_layers=2,
    head_feat_channels=16,
    head_att_channels=8,
    e2e_batch=1,
    e2e_segments=4,
    e2e_sizes=[32],
    e2e_depth=18,
    repeats=2,
    warmup=1,
    num_classes=5)


def settings_from(args) -> dict:
    head_cfg = Config.fromfile(args.model_config).model.cls_head.to_dict()
    if args.head_score is not None:
        head_cfg['attention']['score'] = args.head_score
    s = dict(
        device=args.device,
        threads=args.threads,
        repeats=args.repeats,
        warmup=args.warmup,
        num_classes=args.num_classes,
        head_batch=args.head_batch,
        head_segments=args.head_segments,
        head_channels=args.head_channels,
        head_map=args.head_map,
        head_hidden=args.head_hidden,
        head_layers=args.head_layers,
        head_feat_channels=(head_cfg.get('feat_channels') or 0
                            if args.head_feat_channels is None else
                            args.head_feat_channels),
        head_att_channels=(head_cfg['attention'].get('hidden_channels', 256)
                           if args.head_att_channels is None else
                           args.head_att_channels),
        e2e_batch=args.e2e_batch,
        e2e_segments=args.e2e_segments,
        e2e_sizes=sorted(set(args.e2e_size)),
        e2e_repeats=args.e2e_repeats,
        e2e_depth=args.e2e_depth,
        head_cfg=head_cfg,
        tiny=args.tiny,
        head_reference=args.reference,
        head_executions=['eager'] + (['compiled'] if args.compiled else []) +
        (['cudagraph'] if args.cuda_graphs else []))
    if args.tiny:
        s.update(TINY)
    return s


def e2e_settings(s: dict, size: int) -> dict:
    """Settings of the end-to-end group at frame side ``size``: fewer
    repeats above the smallest size unless --e2e-repeats says."""
    repeats = s['e2e_repeats']
    if repeats is None:
        repeats = (
            s['repeats'] if size == min(s['e2e_sizes']) else max(
                2, s['repeats'] // 2))
    return dict(
        s,
        e2e_size=size,
        repeats=repeats,
        warmup=min(s['warmup'], 1)
        if size > min(s['e2e_sizes']) else s['warmup'])


def run_group(group, reference, s, memory, machine=None, errors=None):
    """Times (and probes the memory of) every variant the settings ask for
    in both modes. For the head group, ``machine`` (a dict) receives the
    GEMM rate and copy bandwidth measured round-robin with the variants in
    each mode, and every variant gets its work, floor and ``floor_ratio``;
    ``errors`` (a dict) receives the traceback of every variant that could
    not be compiled or captured (it is left out)."""
    cases = build_cases(group, s)
    if errors is not None:
        errors.update(cases.get('errors', {}))
    for variant in cases.get('errors', {}):
        print(
            f'[{group}] {variant} left out: it failed to prepare '
            '(traceback in the json, "errors")',
            flush=True)
    variants = list(cases[MODES[0]])
    work = cases.get('work')
    probes, sizes = ((None, None) if work is None else machine_probes(
        s['device'], s.get('tiny', False)))
    results = {variant: {} for variant in variants}
    for mode in MODES:
        print(
            f'[{group}] timing {mode}: {", ".join(variants)} '
            f'({s["warmup"]} warm-up, {s["repeats"]} round-robin repeats)',
            flush=True)
        fns = dict(cases[mode])
        if probes is not None:
            fns.update({f'machine_{k}': fn for k, fn in probes.items()})
        times = time_round_robin(fns, s['device'], s['repeats'], s['warmup'])
        for variant in variants:
            results[variant][mode] = times[variant]
        for variant in variants:
            results[variant][mode]['ratio'] = (
                times[variant]['median_ms'] / times[reference]['median_ms'])
            prepared = cases.get('prepare_s', {}).get(variant)
            if prepared is not None:
                results[variant][mode]['prepare_s'] = prepared[mode]
        if probes is None:
            continue
        rates = machine_rates({k: times[f'machine_{k}']
                               for k in probes}, sizes)
        if machine is not None:
            machine[mode] = rates
        for variant in variants:
            r = results[variant][mode]
            r.update(work[variant][mode])
            r.update(floor_ms(work[variant][mode], rates))
            r['floor_ratio'] = r['median_ms'] / r['floor_ms']
    if work is not None:  # the head group: ops per step of the eager calls
        for variant in variants:
            for mode in MODES:
                results[variant][mode]['ops'] = (
                    count_ops(cases[mode][variant])['ops']
                    if split_variant(variant)[1] == 'eager' else None)
    del cases
    for variant in variants:
        for mode in MODES:
            peak = None
            if memory and split_variant(variant)[1] == 'eager':
                print(f'[{group}] peak memory {variant}/{mode}', flush=True)
                peak = probe_memory(group, variant, mode, s)
            results[variant][mode]['peak_mib'] = peak
    return results


def label(variant: str) -> str:
    """The printed name of a variant (execution appended)."""
    base, execution = split_variant(variant)
    return LABELS[base] + EXECUTION_LABELS[execution]


def _fmt(value, spec):
    return NA if value is None else format(value, spec)


def table(title, results, reference, ratio_label):
    """Times, ratios, peak memory and, for the head, ``ops/step``: the
    aten ops (views left out) of one training step (:mod:`.ops`)."""
    ops = any('ops' in r['train'] for r in results.values())
    headers = ('variant', 'train (fwd+bwd) ms', ratio_label, 'forward ms',
               ratio_label, 'peak MiB train', 'peak MiB forward') + (
                   ('ops/step', ) if ops else ())
    rows = [[
        label(variant), f'{r["train"]["median_ms"]:.1f}',
        f'{r["train"]["ratio"]:.2f}', f'{r["infer"]["median_ms"]:.1f}',
        f'{r["infer"]["ratio"]:.2f}',
        _fmt(r['train']['peak_mib'], '.1f'),
        _fmt(r['infer']['peak_mib'], '.1f')
    ] + ([_fmt(r['train'].get('ops'), 'd')] if ops else [])
            for variant, r in results.items()]
    align = ['left'] + ['right'] * (len(headers) - 1)
    return f'### {title}\n\n' + markdown_table(headers, rows, align)


def floor_table(title, results, ratio_label, machine):
    """Per variant and mode: the work, the floor and the two ratios."""
    headers = ('variant', 'mode', 'GFLOP', 'MB moved', 'floor ms',
               'measured ms', 'x floor', ratio_label)
    rows = []
    for variant, r in results.items():
        for mode, name in (('train', 'fwd+bwd'), ('infer', 'forward')):
            m = r[mode]
            rows.append([
                label(variant), name, f'{m["flops"] / 1e9:.3g}',
                f'{m["bytes"] / 1e6:.3g}', f'{m["floor_ms"]:.3g}',
                f'{m["median_ms"]:.1f}', f'{m["floor_ratio"]:.2f}',
                f'{m["ratio"]:.2f}'
            ])
    align = ['left', 'left'] + ['right'] * (len(headers) - 2)
    lines = [f'### {title}', '', markdown_table(headers, rows, align), '']
    for mode, rates in machine.items():
        backends = ', '.join(
            f'{name} {value:.1f}'
            for name, value in rates['gemm_gflops_by_backend'].items())
        lines.append(
            f'Machine ({mode} round): one {rates["gemm_n"]}^3 GEMM '
            f'{rates["gemm_gflops"]:.1f} GFLOP/s ({backends}), copy '
            f'{rates["stream_gbps"]:.1f} GB/s; floor = max(GFLOP / GEMM '
            'rate, MB / copy rate).')
    return '\n'.join(lines)


def execution_table(title, results):
    """Per base variant and mode: eager, CUDA-graph and compiled time,
    each with its ``x floor`` (``—`` where not timed or it failed), and
    the first call of the compiled / captured variant (compilation or
    capture) in seconds."""
    headers = ['variant', 'mode', 'floor ms']
    names = dict(eager='eager', cudagraph='CUDA graph', compiled='compiled')
    for execution in EXECUTIONS:
        headers += [f'{names[execution]} ms', 'x floor']
    headers += ['capture s', 'compile s']
    bases = [v for v in results if split_variant(v)[1] == 'eager']
    rows = []
    for base in bases:
        for mode, name in (('train', 'fwd+bwd'), ('infer', 'forward')):
            row = [
                LABELS[base], name, f'{results[base][mode]["floor_ms"]:.3g}'
            ]
            for execution in EXECUTIONS:
                m = results.get(variant_name(base, execution), {}).get(mode)
                row += ([NA, NA] if m is None else
                        [f'{m["median_ms"]:.1f}', f'{m["floor_ratio"]:.2f}'])
            for execution in EXECUTIONS[1:]:
                m = results.get(variant_name(base, execution), {}).get(mode)
                row.append(NA if m is None else f'{m["prepare_s"]:.1f}')
            rows.append(row)
    align = ['left', 'left'] + ['right'] * (len(headers) - 2)
    return f'### {title}\n\n' + markdown_table(headers, rows, align)


SUMMARY_HEADERS = ('measure', 'HM-AN ms', 'x floor', 'x fused LSTM', 'x TSN')


def summary_rows(report) -> list:
    """The README's speed table: the default head against its floor and
    the fused LSTM, the whole recognizer against TSN at every size."""
    rows = []
    head = report['head']['hman_soft']
    for mode, label in (('train', 'head, train (fwd+bwd)'),
                        ('infer', 'head, inference')):
        m = head[mode]
        rows.append([
            label, f'{m["median_ms"]:.0f}', f'{m["floor_ratio"]:.2f}',
            f'{m["ratio"]:.2f}', NA
        ])
    for size, results in report.get('end_to_end', {}).items():
        for mode, label in (('train', 'train step'), ('infer', 'inference')):
            m = results['hman'][mode]
            rows.append([
                f'R50 recognizer {size} px, {label}', f'{m["median_ms"]:.0f}',
                NA, NA, f'{m["ratio"]:.2f}'
            ])
    return rows


def profile_head(s: dict) -> dict:
    """Profile categories of one training step of the default head (after
    the warm-up), see :mod:`hman_lab.speed.profile`."""
    print('[head] profiling one training step of hman_soft', flush=True)
    train = build_cases('head', s, only='hman_soft')['train']['hman_soft']
    for _ in range(max(s['warmup'], 1)):
        train()
    shape = (s['head_batch'] * s['head_segments'], s['head_channels'],
             s['head_map'], s['head_map'])
    return profile_step(train, shape, s['head_segments'])


def profile_table(times: dict, title: str) -> str:
    rows = [[
        name, f'{times[name]:.1f}', f'{times[name] / times["total"]:.0%}'
    ] for name in CATEGORIES]
    rows.append(['profiled total', f'{times["total"]:.1f}', '100%'])
    return (f'### Profile of one training step of HM-AN soft: {title}\n\n' +
            markdown_table(
                ('category', 'ms', 'share'), rows, ['left', 'right', 'right']))


def check_targets(report) -> dict:
    checks = {}
    head = report.get('head')
    if head:
        train = head['hman_soft']['train']
        for key, value in (('head_train_vs_floor', train['floor_ratio']),
                           ('head_train_vs_lstm', train['ratio'])):
            checks[key] = dict(
                value=value, target=TARGETS[key], met=value <= TARGETS[key])
    e2e = report.get('end_to_end')
    if e2e:
        size = max(e2e, key=int)
        for key, mode in (('e2e_train_vs_tsn', 'train'), ('e2e_infer_vs_tsn',
                                                          'infer')):
            value = e2e[size]['hman'][mode]['ratio']
            checks[key] = dict(
                value=value,
                target=TARGETS[key],
                met=value <= TARGETS[key],
                size=int(size))
    return checks


def run_speed_benchmark(args) -> dict:
    """Time, print and (``args.json``) save every figure; ``args``: the
    flags of ``tools/benchmark.py``. Returns the report."""
    if args.json:  # before the measurements, not after them
        check_output_file(args.json, '--json')
    s = settings_from(args)
    if s['threads']:
        torch.set_num_threads(s['threads'])
    memory_note = (
        'torch.cuda.max_memory_allocated during one call minus the '
        'allocation before it' if s['device'].startswith('cuda') else
        'growth of the peak RSS (Linux VmHWM) during the first '
        'call after set-up, one fresh subprocess per variant and mode')
    report = dict(
        meta=dict(
            date=datetime.datetime.now().isoformat(timespec='seconds'),
            device=s['device'],
            device_name=(torch.cuda.get_device_name(s['device'])
                         if s['device'].startswith('cuda') else
                         platform.processor() or platform.machine()),
            cpu_count=os.cpu_count(),
            torch_threads=torch.get_num_threads(),
            torch=torch.__version__,
            python=platform.python_version(),
            settings={
                k: v
                for k, v in s.items() if k != 'head_cfg'
            },
            head_cfg=s['head_cfg'],
            timing='median of round-robin repeats, ms',
            memory=None if args.no_memory else memory_note))
    machine, errors = {}, {}
    report['head'] = run_group('head', 'lstm', s, not args.no_memory, machine,
                               errors)
    report['machine'] = machine
    report['errors'] = errors
    if not args.skip_e2e:
        report['end_to_end'] = {
            str(size):
            run_group('e2e', 'tsn', e2e_settings(s, size), not args.no_memory)
            for size in s['e2e_sizes']
        }
    if args.profile:
        report['profile'] = profile_head(s)
    report['targets'] = check_targets(report)
    report['summary'] = dict(
        headers=list(SUMMARY_HEADERS), rows=summary_rows(report))

    head_title = (
        f'Head: B={s["head_batch"]}, T={s["head_segments"]}, '
        f'C={s["head_channels"]}, {s["head_map"]}x{s["head_map"]} map, '
        f'D={s["head_feat_channels"] or s["head_channels"]}, '
        f'{s["head_cfg"]["attention"].get("score", "content")} score, '
        f'A={s["head_att_channels"]}, hidden {s["head_hidden"]}, '
        f'{s["head_layers"]} layers ({s["device"]}, '
        f'{torch.get_num_threads()} threads)')
    print('\n' + table(head_title, report['head'], 'lstm', 'x LSTM'))
    print('\n' + floor_table('Head against its floor: ' +
                             head_title, report['head'], 'x LSTM', machine))
    if len(s['head_executions']) > 1:
        print('\n' + execution_table(
            'Head by execution (eager, CUDA graph, compiled): ' +
            head_title, report['head']))
    for variant, error in errors.items():
        last = error.strip().splitlines()[-1]
        print(f'\n{label(variant)}: not timed, it failed to prepare: '
              f'{last}')
    for size, results in report.get('end_to_end', {}).items():
        e2e = e2e_settings(s, int(size))
        e2e_title = (
            f'End to end: Recognizer2D ResNet-{s["e2e_depth"]}, '
            f'{s["e2e_batch"]} x {s["e2e_segments"]} frames of '
            f'{size}x{size} ({s["device"]}, {e2e["repeats"]} repeats)')
        print('\n' + table(e2e_title, results, 'tsn', 'x TSN'))
    if 'profile' in report:
        print('\n' + profile_table(report['profile'], head_title))
    print('\n### Summary (the README table)\n\n' +
          markdown_table(SUMMARY_HEADERS, report['summary']['rows'], ['left'] +
                         ['right'] * (len(SUMMARY_HEADERS) - 1)))
    print('\nTargets:')
    for key, check in report['targets'].items():
        where = f' at {check["size"]} px' if 'size' in check else ''
        print(f'  {key}{where}: {check["value"]:.2f} (target <= '
              f'{check["target"]}) -> {"met" if check["met"] else "NOT met"}')
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'\nall figures: {args.json}')
    return report
