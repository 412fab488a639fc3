"""Speed benchmark: the HM-AN head against a fused LSTM, and a whole
Recognizer2D (ResNet) with the HM-AN head against TSN.

    python tools/benchmark.py [--device cpu|cuda] [--repeats 5] [--warmup 2]
        [--threads N] [--json OUT.json] [--no-memory] [--skip-e2e] [--tiny]
        [--head-batch 8 --head-segments 16 --head-channels 2048 --head-map 7
         --head-hidden 512 --head-layers 2]
        [--head-score content|bilinear|location]
        [--e2e-batch 2 --e2e-segments 16 --e2e-size 112|224 --e2e-depth 50]

Prints two tables (median milliseconds, ratios, peak memory) and the
targets; ``--json`` writes every figure. What is timed and how memory is
measured: :mod:`hman_mmaction.benchmark.speed` and
:mod:`hman_mmaction.benchmark.timing`. The head config is the ``cls_head``
of ``--model-config`` (default ``configs/_base_/models/hman_r50.py``).
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform

import torch
from mmengine.config import Config

import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
from hman_mmaction.benchmark.speed import (E2E_VARIANTS, HEAD_VARIANTS, MODES,
                                           build_cases)
from hman_mmaction.benchmark.tables import NA, markdown_table
from hman_mmaction.benchmark.timing import probe_memory, time_round_robin

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TARGETS = dict(
    head_train_vs_lstm=2.0, e2e_train_vs_tsn=1.10, e2e_infer_vs_tsn=1.05)
LABELS = dict(
    hman_soft='HM-AN soft',
    hman_hard='HM-AN Gumbel-hard + adaptive tau',
    attlstm='Att-LSTM (NoBoundary)',
    lstm='fused nn.LSTM (mean-pooled)',
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
    e2e_size=32,
    e2e_depth=18,
    repeats=2,
    warmup=1,
    num_classes=5)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch default)')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--json', default=None, help='write all figures here')
    p.add_argument(
        '--no-memory', action='store_true', help='skip the peak-memory probes')
    p.add_argument('--skip-e2e', action='store_true')
    p.add_argument(
        '--tiny',
        action='store_true',
        help='tiny sizes (a smoke run in seconds)')
    p.add_argument(
        '--model-config',
        default=osp.join(REPO, 'configs', '_base_', 'models', 'hman_r50.py'))
    # sizes of the synthetic inputs and models (see TINY for a smoke run)
    for flag, default in (('--num-classes', 101), ('--head-batch', 8),
                          ('--head-segments', 16), ('--head-channels', 2048),
                          ('--head-map', 7), ('--head-hidden', 512),
                          ('--head-layers', 2), ('--e2e-batch', 2),
                          ('--e2e-segments', 16), ('--e2e-depth', 50)):
        p.add_argument(flag, type=int, default=default)
    p.add_argument(
        '--head-feat-channels',
        type=int,
        default=None,
        help='1x1 projection C->D (default: the config, 0 = none)')
    p.add_argument(
        '--head-att-channels',
        type=int,
        default=None,
        help='attention hidden size (default: the config)')
    p.add_argument(
        '--head-score',
        default=None,
        choices=('content', 'bilinear', 'location'),
        help='attention score of every HM-AN variant, head and '
        'end-to-end (default: the config)')
    p.add_argument(
        '--e2e-size',
        type=int,
        default=None,
        help='frame side (default 112 on CPU, 224 on CUDA)')
    return p.parse_args(argv)


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
        e2e_size=args.e2e_size
        or (224 if args.device.startswith('cuda') else 112),
        e2e_depth=args.e2e_depth,
        head_cfg=head_cfg)
    if args.tiny:
        s.update(TINY)
    return s


def run_group(group, variants, reference, s, memory):
    """Times (and probes the memory of) every variant in both modes."""
    cases = build_cases(group, s)
    results = {variant: {} for variant in variants}
    for mode in MODES:
        print(
            f'[{group}] timing {mode}: {", ".join(variants)} '
            f'({s["warmup"]} warm-up, {s["repeats"]} round-robin repeats)',
            flush=True)
        times = time_round_robin(cases[mode], s['device'], s['repeats'],
                                 s['warmup'])
        for variant in variants:
            results[variant][mode] = times[variant]
        for variant in variants:
            results[variant][mode]['ratio'] = (
                times[variant]['median_ms'] / times[reference]['median_ms'])
    del cases
    for variant in variants:
        for mode in MODES:
            peak = None
            if memory:
                print(f'[{group}] peak memory {variant}/{mode}', flush=True)
                peak = probe_memory(group, variant, mode, s)
            results[variant][mode]['peak_mib'] = peak
    return results


def _fmt(value, spec):
    return NA if value is None else format(value, spec)


def table(title, results, reference, ratio_label):
    headers = [
        'variant', 'train (fwd+bwd) ms', ratio_label, 'forward ms',
        ratio_label, 'peak MiB train', 'peak MiB forward'
    ]
    rows = [[
        LABELS[variant], f'{r["train"]["median_ms"]:.1f}',
        f'{r["train"]["ratio"]:.2f}', f'{r["infer"]["median_ms"]:.1f}',
        f'{r["infer"]["ratio"]:.2f}',
        _fmt(r['train']['peak_mib'], '.1f'),
        _fmt(r['infer']['peak_mib'], '.1f')
    ] for variant, r in results.items()]
    return f'### {title}\n\n' + markdown_table(
        headers, rows, align=[None] + ['right'] * 6)


def check_targets(report) -> dict:
    checks = {}
    head = report.get('head')
    if head:
        worst = max(head[v]['train']['ratio']
                    for v in ('hman_soft', 'hman_hard', 'attlstm'))
        checks['head_train_vs_lstm'] = dict(
            value=worst,
            target=TARGETS['head_train_vs_lstm'],
            met=worst <= TARGETS['head_train_vs_lstm'])
    e2e = report.get('end_to_end')
    if e2e:
        for key, mode in (('e2e_train_vs_tsn', 'train'), ('e2e_infer_vs_tsn',
                                                          'infer')):
            value = e2e['hman'][mode]['ratio']
            checks[key] = dict(
                value=value, target=TARGETS[key], met=value <= TARGETS[key])
    return checks


def main(argv=None):
    args = parse_args(argv)
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
    report['head'] = run_group('head', HEAD_VARIANTS, 'lstm', s,
                               not args.no_memory)
    if not args.skip_e2e:
        report['end_to_end'] = run_group('e2e', E2E_VARIANTS, 'tsn', s,
                                         not args.no_memory)
    report['targets'] = check_targets(report)

    head_title = (
        f'Head: B={s["head_batch"]}, T={s["head_segments"]}, '
        f'C={s["head_channels"]}, {s["head_map"]}x{s["head_map"]} map, '
        f'D={s["head_feat_channels"] or s["head_channels"]}, '
        f'{s["head_cfg"]["attention"].get("score", "content")} score, '
        f'A={s["head_att_channels"]}, hidden {s["head_hidden"]}, '
        f'{s["head_layers"]} layers ({s["device"]}, '
        f'{torch.get_num_threads()} threads)')
    print('\n' + table(head_title, report['head'], 'lstm', 'x LSTM'))
    if 'end_to_end' in report:
        e2e_title = (f'End to end: Recognizer2D ResNet-{s["e2e_depth"]}, '
                     f'{s["e2e_batch"]} x {s["e2e_segments"]} frames of '
                     f'{s["e2e_size"]}x{s["e2e_size"]} ({s["device"]})')
        print('\n' + table(e2e_title, report['end_to_end'], 'tsn', 'x TSN'))
    print('\nTargets:')
    for key, check in report['targets'].items():
        print(f'  {key}: {check["value"]:.2f} (target <= {check["target"]})'
              f' -> {"met" if check["met"] else "NOT met"}')
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'\nall figures: {args.json}')
    return report


if __name__ == '__main__':
    main()
