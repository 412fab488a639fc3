"""The parts of the GPU check, each run in its own process
(``python -m hman_lab.device_check.parts PART OUT BUDGET [--dry-run]``,
started by :func:`hman_lab.device_check.check.run_part`), each writing
``<out>/parts/<part>.json``:

a. pytest on the CUDA-only tests (:data:`CUDA_TESTS`, ``-k cuda``), one
   row per test (the replay stress test of issue 33's harness fix among
   them);
b. the head's fast path against its reference loop
   (:mod:`hman_lab.device_check.parity`);
g. the head's ``cuda_graphs`` option: head rows at 8 views fp32 and 16
   views fp16 autocast against the eager head and the eager and graphed
   cuDNN LSTM, ops per step, graphed-vs-eager parity and 50 replays with
   ``empty_cache()`` between (:mod:`hman_lab.device_check.graphs`);
d. one epoch of 30 full batches and a smaller last one of
   ``configs/hman_ucf101.py`` at 224 px with AMP through ``tools/train.py``'s
   code path, with the option (the default), without it, and of TSN, on
   generated videos laid out as UCF101
   (:mod:`hman_lab.device_check.short_train`);
k. ``cuda_graphs='compile'``: the first training step (the compile) and
   the step after it, 16 views fp16 autocast;
c. (on request: ``--parts ... c``) the head tables of
   ``tools/benchmark.py --device cuda --reference``, eager and CUDA graphs,
   then with the compiled rows.

The report's ``acceptance`` block (:mod:`hman_lab.device_check.acceptance`)
puts each figure of issue 33's targets next to its target.

The standard library only at import; a part imports what it needs.
"""
import json
import os.path as osp
import sys
import time
import traceback
import xml.etree.ElementTree as ElementTree
from types import SimpleNamespace
from typing import Dict, List

from ..runs import REPO, python, run_process

CUDA_TESTS = ('tests/models/test_graph_breaks.py',
              'tests/models/test_cuda_graph_option.py',
              'tests/robustness/test_numerics.py',
              'tests/lab/test_execution.py')
CUDA_TEST_FILTER = 'cuda'  # pytest -k: the tests that need CUDA
HEAD_CONFIG = 'configs/_base_/models/hman_r50.py'
HMAN_CONFIG = 'configs/hman_ucf101.py'
TSN_CONFIG = ('configs/baselines/'
              'tsn_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-'
              'rgb.py')
# part: (title, limit in seconds on a GPU); run in this order; the default
# parts fit the default --budget of 480 s (8 minutes) on one H100
PARTS = dict(
    a=('CUDA-only tests', 60),
    b=('fast path vs reference loop, fp32 / fp16 / bf16 autocast', 35),
    g=('cuda_graphs: head rows, ops per step, parity, replay stress', 100),
    d=('hman_ucf101 with / without cuda_graphs vs TSN, 224 px, --amp', 140),
    k=("cuda_graphs='compile': compile time and step", 140),
    c=('head benchmark: eager, CUDA graphs, compiled', 300))
ORDER = ('a', 'b', 'g', 'd', 'k', 'c')
DEFAULT_PARTS = ('a', 'b', 'g', 'd', 'k')
DRY_LIMIT = 240  # seconds per part in a dry run
# part d on a GPU: the configs' own per-GPU batch and workers; 30 full
# batches and a smaller last one (its own graph key)
TRAIN = dict(
    iterations=30,
    batch_size=16,
    last_batch=8,
    workers=8,
    size=128,
    frames=32,
    warmup=5,
    amp=True)
DRY_TRAIN = dict(
    iterations=2,
    batch_size=2,
    last_batch=1,
    workers=0,
    size=64,
    frames=16,
    warmup=1,
    amp=False,
    shrink=dict(size=32, segments=2))
# part d's runs: (name, config, the head's cuda_graphs: None = the config's)
TRAIN_RUNS = (('hman', HMAN_CONFIG, None), ('hman_eager', HMAN_CONFIG, False),
              ('tsn', TSN_CONFIG, None))
PYTEST_MODULES = ('pytest', )
STACK = ('mmengine', 'mmcv', 'mmaction', 'decord', 'cv2')


def worker(args) -> int:
    """Run part ``args.worker`` in this process and write its json (see
    :data:`PARTS`); ``args``: ``worker``, ``out``, ``budget``,
    ``dry_run``."""
    out = args.out
    result = dict(status='failed', errors=[])
    try:
        result.update(
            dict(a=part_a, b=part_b, c=part_c, d=part_d, g=part_g,
                 k=part_k)[args.worker](args, out))
    except Exception:
        result['errors'].append(
            dict(
                where=f'part {args.worker}', traceback=traceback.format_exc()))
        result['status'] = 'failed'
    with open(osp.join(out, 'parts', f'{args.worker}.json'), 'w') as f:
        json.dump(result, f, indent=2, default=str)
    return 0


def _register():
    from mmengine.registry import init_default_scope

    import hman_mmaction  # noqa: F401  (compat fixes, registries)
    init_default_scope('mmaction')


def part_a(args, out) -> Dict:
    """pytest on the CUDA tests (``-k cuda``), one row per test."""
    xml = osp.join(out, 'logs', 'a_junit.xml')
    command = python('-m', 'pytest', '-o', 'addopts=', '-p',
                     'no:cacheprovider', '-q', '-rA', '-k', CUDA_TEST_FILTER,
                     f'--junitxml={xml}', *CUDA_TESTS)
    process = run_process(
        command,
        capture=True,
        timeout=max(args.budget - 5, 5),
        env=dict(PYTHONWARNINGS='ignore'))
    tests = parse_junit(xml) if osp.exists(xml) else []
    errors = [
        dict(where=t['name'], traceback=t['detail']) for t in tests
        if t['outcome'] in ('failed', 'error')
    ]
    counts = {}
    for t in tests:
        counts[t['outcome']] = counts.get(t['outcome'], 0) + 1
    if not tests:
        errors.append(dict(where='pytest', traceback=process.tail(6000)))
    if errors:
        status = 'failed'
    elif counts.get('passed'):
        status = 'passed'
    else:
        status = 'skipped'  # no CUDA: collected, every one skipped
    return dict(
        status=status,
        tests=tests,
        counts=counts,
        command=' '.join(command[3:]),
        exit_code=process.code,
        errors=errors)


def parse_junit(path: str) -> List[Dict]:
    rows = []
    for case in ElementTree.parse(path).getroot().iter('testcase'):
        outcome, detail = 'passed', ''
        for tag in ('failure', 'error', 'skipped'):
            node = case.find(tag)
            if node is not None:
                outcome = dict(failure='failed', error='error')[tag] \
                    if tag != 'skipped' else 'skipped'
                detail = (node.get('message') or '') + '\n' + (node.text or '')
                break
        rows.append(
            dict(
                name=f'{case.get("classname")}::{case.get("name")}',
                outcome=outcome,
                seconds=float(case.get('time') or 0),
                detail=detail.strip()[-4000:]))
    return rows


def part_b(args, out) -> Dict:
    import torch
    from mmengine.config import Config

    from .parity import run_parity
    _register()
    device = 'cpu' if args.dry_run else 'cuda'
    if args.dry_run:
        torch.set_num_threads(1)
    head_cfg = Config.fromfile(osp.join(REPO,
                                        HEAD_CONFIG)).model.cls_head.to_dict()
    rows = run_parity(head_cfg, device, tiny=args.dry_run)
    errors = [
        dict(
            where=f'{r["head"]}, {r["precision"]}',
            traceback=(f'values err {r["values"]:.2e} ({r["worst_value"]}), '
                       f'gradients err {r["grads"]:.2e} ({r["worst_grad"]}); '
                       f'bound {r["bound"]}; missing gradients '
                       f'{r["missing_grads"]}')) for r in rows
        if r['status'] == 'failed'
    ]
    return dict(
        status='failed' if errors else 'passed',
        device=device,
        rows=rows,
        errors=errors)


def part_c(args, out) -> Dict:
    """``tools/benchmark.py`` twice: eager and CUDA graphs, then with the
    compiled rows (skipped in a dry run)."""
    start = time.perf_counter()
    if args.dry_run:
        common = ['--device', 'cpu', '--tiny', '--threads', '1']
        runs = [('eager', common)]
    else:
        common = ['--device', 'cuda', '--cuda-graphs']
        runs = [('eager', common), ('compiled', common + ['--compiled'])]
    result = dict(status='passed', runs={}, errors=[])
    for name, flags in runs:
        left = args.budget - (time.perf_counter() - start) - 5
        if left < 20:
            result['errors'].append(
                dict(
                    where=f'benchmark ({name})',
                    traceback='not run: no time left in the part'))
            continue
        json_file = osp.join(out, 'logs', f'c_{name}.json')
        command = [
            sys.executable,
            osp.join(REPO, 'tools', 'benchmark.py'), '--skip-e2e',
            '--no-memory', '--reference', '--json', json_file
        ] + flags
        process = run_process(
            command,
            log=osp.join(out, 'logs', f'c_{name}.log'),
            timeout=left,
            env=dict(PYTHONWARNINGS='ignore'))
        output, code = process.text(), process.code
        if process.timed_out:
            output += f'\n(ran out of {left:.0f} s)'
            with open(process.log, 'a') as f:
                f.write(f'\n(ran out of {left:.0f} s)')
        run = dict(
            command='python tools/benchmark.py ' + ' '.join(command[2:]),
            exit_code=code)
        if code == 0 and osp.exists(json_file):
            with open(json_file) as f:
                bench = json.load(f)
            run.update(
                head=bench['head'],
                machine=bench['machine'],
                errors=bench.get('errors', {}),
                tables=output[output.find('### '):output.find('### Summary')].
                strip())
            for variant, tb in bench.get('errors', {}).items():
                result['errors'].append(
                    dict(where=f'benchmark ({name}): {variant}', traceback=tb))
        else:
            result['errors'].append(
                dict(where=f'benchmark ({name})', traceback=output[-6000:]))
        result['runs'][name] = run
    if not any('head' in run for run in result['runs'].values()):
        result['status'] = 'failed'
    elif result['errors']:
        result['status'] = 'partial'
    return result


def _head_config() -> dict:
    from mmengine.config import Config
    return Config.fromfile(osp.join(REPO,
                                    HEAD_CONFIG)).model.cls_head.to_dict()


def part_g(args, out) -> Dict:
    """The ``cuda_graphs`` option's head rows and checks
    (:mod:`hman_lab.device_check.graphs`)."""
    import torch

    from .graphs import run_graph_rows
    _register()
    device = 'cpu' if args.dry_run else 'cuda'
    if args.dry_run:
        torch.set_num_threads(1)
    result = run_graph_rows(_head_config(), device, tiny=args.dry_run)
    if device == 'cuda':
        for row in result['rows'].values():
            if not row['variants']['option']['graphed']:
                result['errors'].append(
                    dict(
                        where=f'{row["dtype"]}, {row["views"]} views',
                        traceback='the option ran eagerly (see the log)'))
        parity, stress = result.get('parity', {}), result.get('stress', {})
        if parity.get('flips') or stress.get('cuda_errors'):
            result['errors'].append(
                dict(
                    where='parity / stress',
                    traceback=f'parity {parity}; stress {stress}'))
    result['status'] = 'failed' if result['errors'] else 'passed'
    return result


def part_k(args, out) -> Dict:
    """``cuda_graphs='compile'`` on the 16-view fp16 row: the first step
    (compile included) and the median of the steps after it."""
    import torch

    from ..speed.timing import time_round_robin
    from .graphs import ROWS, _samples, build, head_config, head_step
    if args.dry_run:
        return dict(
            status='skipped',
            why='CUDA only (the option runs eagerly on a CPU; an Inductor '
            'compile of the head takes minutes there)')
    _register()
    _, dtype, views = ROWS[1]
    head = build(
        head_config(_head_config(), False, cuda_graphs='compile'), 'cuda')
    T, C = head.num_segments, head.in_channels
    x = torch.randn(views * T, C, 7, 7, device='cuda', requires_grad=True)
    samples = _samples(views, head.num_classes, 'cuda')
    torch.cuda.synchronize()
    start = time.perf_counter()
    head_step(head, x, samples, dtype)
    torch.cuda.synchronize()
    first = time.perf_counter() - start
    times = time_round_robin(
        dict(compiled=lambda: head_step(head, x, samples, dtype)), 'cuda', 20,
        3)['compiled']
    return dict(
        status='passed',
        views=views,
        dtype=str(dtype).split('.')[-1],
        first_step_s=first,
        forward_compile_s=list(head._graphs.compile_seconds.values()),
        step=times)


def part_d(args, out) -> Dict:
    import shutil

    from .short_train import short_run, write_ucf101_layout
    _register()
    settings = dict(DRY_TRAIN if args.dry_run else TRAIN)
    root = osp.join(out, 'data', 'ucf101')
    shutil.rmtree(root, ignore_errors=True)  # this run's videos only
    start = time.perf_counter()
    data = write_ucf101_layout(
        root,
        settings['iterations'],
        settings['batch_size'],
        last_batch=settings['last_batch'],
        size=settings['size'],
        num_frames=settings['frames'])
    data['seconds'] = round(time.perf_counter() - start, 1)
    runs, errors = {}, []
    for name, config, graphs in TRAIN_RUNS:
        try:
            runs[name] = short_run(
                osp.join(REPO, config),
                data,
                osp.join(out, 'work', name),
                settings['batch_size'],
                amp=settings['amp'],
                workers=settings['workers'],
                warmup=settings['warmup'],
                shrink=settings.get('shrink'),
                name=f'device_check_{name}',
                cuda_graphs=graphs)
            runs[name]['config'] = config
        except Exception:
            errors.append(
                dict(
                    where=f'training {config}',
                    traceback=traceback.format_exc()))
        finally:
            _free_cuda()
    for name, run in list(runs.items()):
        need = [('finite', run['finite'])]
        if not args.dry_run:  # a few CPU iterations need not fall
            need.append(('falling', run['falling']))
        for what, ok in need:
            if not ok:
                errors.append(
                    dict(
                        where=f'training {run["config"]}',
                        traceback=f'loss not {what}: {run["losses"]}'))
    tsn = runs.get('tsn') or {}
    ratios = {}
    for name in ('hman', 'hman_eager'):
        run = runs.get(name)
        if run is None or not run['median_ms'] or not tsn.get('median_ms'):
            continue
        ratios[name] = dict(
            time_per_iter_vs_tsn=run['median_ms'] / tsn['median_ms'],
            peak_memory_vs_tsn=(run['peak_gpu_mib'] / tsn['peak_gpu_mib']
                                if tsn['peak_gpu_mib'] else None))
    return dict(
        ratios=ratios,
        status='failed' if errors else 'passed',
        data=data,
        settings=settings,
        runs=runs,
        errors=errors)


def _free_cuda():
    import gc

    import torch
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def main(argv=None) -> int:
    """``PART OUT BUDGET [--dry-run]``: :func:`worker` on that part."""
    argv = sys.argv[1:] if argv is None else list(argv)
    part, out, budget = argv[:3]
    return worker(
        SimpleNamespace(
            worker=part,
            out=out,
            budget=float(budget),
            dry_run='--dry-run' in argv[3:]))


if __name__ == '__main__':
    sys.exit(main())
