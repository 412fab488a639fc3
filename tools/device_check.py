"""The GPU check: one command that tells whether the plugin's CUDA lines
work and how fast they are, on one GPU in a few minutes.

    python tools/device_check.py [--out work_dirs/device_check]
        [--parts a b c d] [--budget 420] [--dry-run]
        [--install-wheels DIR]

Writes ``<out>/report.md`` and ``<out>/report.json`` (also when parts fail):

a. the CUDA-only tests (no host sync in the training step, CUDA-graph
   capture on both paths, float16 autocast numerics): pytest on
   :data:`CUDA_TESTS`, one row per test;
b. the head's fast path against its reference loop on CUDA, values and
   gradients, float32 and under float16 and bfloat16 autocast
   (:mod:`hman_mmaction.benchmark.parity`);
c. the head tables of ``tools/benchmark.py --device cuda --reference``:
   time, x floor (the GPU's own GEMM rate and copy bandwidth, measured in
   the same run), x cuDNN ``nn.LSTM``; eager and CUDA graphs first, then
   again with the compiled (Inductor) rows, so that a compile that runs out
   of time leaves the eager table;
d. 30 training iterations of ``configs/hman_ucf101.py`` at 224 px with
   ``--amp`` on generated videos laid out as UCF101, and of the TSN config
   on the same data: loss finite and falling, peak GPU memory, iterations
   per second (:mod:`hman_mmaction.benchmark.short_train`);
e. every failure with its traceback; one part failing does not stop the
   others.

Every part runs in its own process with a time limit (``--budget`` seconds
for the whole check; the parts' own limits in :data:`PARTS`), so a crash,
a hung compile or a CUDA error ends that part only. Without a CUDA device
the check exits with status 2 and says so. ``--dry-run`` runs every part on
the CPU at tiny sizes (what CI runs, ``tests/tools/test_device_check.py``):
part a then collects the CUDA tests and reports them skipped, part b
compares float32 and bfloat16 / float16 autocast on the CPU, part c runs
the tiny benchmark without the compiled rows (Inductor compiles for
minutes on a small CPU; ``tests/models/test_inductor.py`` covers it) and
part d trains a few iterations at 64 px in float32.

A machine without the OpenMMLab stack (mmengine, mmcv-lite, mmaction2,
decord and their pure-Python dependencies): put their wheels in a folder
and pass ``--install-wheels DIR`` (``pip install --no-index --find-links
DIR --no-deps DIR/*.whl`` before anything is imported).
"""
import argparse
import datetime
import glob
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ElementTree
from typing import Dict, List

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CUDA_TESTS = ('tests/models/test_graph_breaks.py',
              'tests/robustness/test_numerics.py')
CUDA_TEST_FILTER = 'cuda'  # pytest -k: the tests that need CUDA
HEAD_CONFIG = 'configs/_base_/models/hman_r50.py'
HMAN_CONFIG = 'configs/hman_ucf101.py'
TSN_CONFIG = ('configs/baselines/'
              'tsn_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-'
              'rgb.py')
# part: (title, limit in seconds on a GPU); run in this order (the compile
# of part c last: it gets what the budget leaves)
PARTS = dict(
    a=('CUDA-only tests', 120),
    b=('fast path vs reference loop, fp32 / fp16 / bf16 autocast', 90),
    d=('30 iterations of hman_ucf101 vs TSN, 224 px, --amp', 200),
    c=('head benchmark: eager, CUDA graphs, compiled', 300))
ORDER = ('a', 'b', 'd', 'c')
DRY_LIMIT = 240  # seconds per part in a dry run
# part d on a GPU: the configs' own per-GPU batch and workers
TRAIN = dict(
    iterations=30,
    batch_size=16,
    workers=8,
    size=128,
    frames=32,
    warmup=5,
    amp=True)
DRY_TRAIN = dict(
    iterations=3,
    batch_size=1,
    workers=0,
    size=64,
    frames=16,
    warmup=1,
    amp=False,
    shrink=dict(size=32, segments=2))
PYTEST_MODULES = ('pytest', )
STACK = ('mmengine', 'mmcv', 'mmaction', 'decord', 'cv2')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default=osp.join('work_dirs', 'device_check'))
    p.add_argument(
        '--parts',
        nargs='+',
        default=list(ORDER),
        choices=list(ORDER),
        help='parts to run (default all)')
    p.add_argument(
        '--budget',
        type=float,
        default=420,
        help='seconds for the whole check (default 420)')
    p.add_argument(
        '--dry-run',
        action='store_true',
        help='run every part on the CPU at tiny sizes (CI)')
    p.add_argument(
        '--install-wheels',
        default=None,
        metavar='DIR',
        help='first pip install every wheel in DIR (--no-index --no-deps)')
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ----------------------------------------------------------------- parent
def install_wheels(folder: str) -> Dict:
    wheels = sorted(glob.glob(osp.join(folder, '*.whl')))
    if not wheels:
        return dict(status='failed', error=f'no *.whl files in {folder}')
    command = [
        sys.executable, '-m', 'pip', 'install', '--no-index', '--find-links',
        folder, '--no-deps'
    ] + wheels
    result = subprocess.run(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors='replace')
    return dict(
        status='passed' if result.returncode == 0 else 'failed',
        wheels=[osp.basename(w) for w in wheels],
        output=result.stdout[-4000:])


def missing_modules() -> List[str]:
    import importlib.util
    return [
        name for name in STACK + PYTEST_MODULES
        if importlib.util.find_spec(name) is None
    ]


def environment() -> Dict:
    import torch
    info = dict(
        date=datetime.datetime.now().isoformat(timespec='seconds'),
        host=platform.node(),
        python=platform.python_version(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cpu_count=os.cpu_count(),
        command=' '.join([osp.relpath(sys.argv[0], REPO)] + sys.argv[1:]))
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            capability=f'{props.major}.{props.minor}')
    try:
        info['commit'] = subprocess.run(
            ['git', 'rev-parse', '--short', 'HEAD'],
            cwd=REPO,
            capture_output=True,
            text=True).stdout.strip() or None
    except OSError:
        info['commit'] = None
    return info


def child_env() -> Dict[str, str]:
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
    return env


def run_part(part: str, args, limit: float) -> Dict:
    """Run one part in a fresh process; its result, or a failure with the
    end of its output when it crashed or ran out of time."""
    out = osp.abspath(args.out)
    result_file = osp.join(out, 'parts', f'{part}.json')
    log_file = osp.join(out, 'logs', f'{part}.log')
    if osp.exists(result_file):
        os.remove(result_file)
    command = [
        sys.executable,
        osp.abspath(__file__), '--worker', part, '--out', out, '--budget',
        str(limit)
    ] + (['--dry-run'] if args.dry_run else [])
    start = time.perf_counter()
    timed_out = False
    with open(log_file, 'w') as log:
        # its own process group: a part that runs out of time is ended with
        # everything it started (pytest, the benchmark, compile workers)
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out, code = True, None
            _end_group(process)
    seconds = time.perf_counter() - start
    if osp.exists(result_file):
        with open(result_file) as f:
            result = json.load(f)
    else:
        result = dict(status='failed', errors=[])
    if timed_out or code != 0 or not osp.exists(result_file):
        with open(log_file, errors='replace') as f:
            tail = f.read()[-6000:]
        why = (f'ran out of its {limit:.0f} s'
               if timed_out else f'exited with status {code}')
        result['status'] = 'failed'
        result.setdefault('errors', []).append(
            dict(where=f'part {part} process', traceback=f'{why}\n{tail}'))
    result.update(
        seconds=round(seconds, 1), limit_s=round(limit), log=log_file)
    return result


def _end_group(process) -> None:
    import signal
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    out = osp.abspath(args.out)
    for folder in ('parts', 'logs'):
        os.makedirs(osp.join(out, folder), exist_ok=True)
    report = dict(dry_run=args.dry_run, parts={})
    if args.install_wheels:
        report['install'] = install_wheels(args.install_wheels)
        print(f'install wheels from {args.install_wheels}: '
              f'{report["install"]["status"]}')
    missing = missing_modules()
    if missing:
        sys.exit(f'device_check: missing Python modules {missing}. Install '
                 'the stack first (pip install -e ".[tests]"), or put its '
                 'wheels in a folder and pass --install-wheels DIR.')
    import torch
    if not args.dry_run and not torch.cuda.is_available():
        print('device_check: no CUDA device here (torch '
              f'{torch.__version__}, CUDA build {torch.version.cuda}); the '
              'check needs one GPU. Run it on a GPU machine, or with '
              '--dry-run to run its parts on the CPU at tiny sizes.')
        sys.exit(2)
    report['environment'] = environment()
    deadline = time.perf_counter() + args.budget
    for part in [p for p in ORDER if p in args.parts]:
        left = deadline - time.perf_counter()
        limit = min(DRY_LIMIT if args.dry_run else PARTS[part][1], left)
        if limit < 10:
            report['parts'][part] = dict(
                status='failed',
                errors=[
                    dict(
                        where=f'part {part}',
                        traceback=f'not run: the --budget of {args.budget:.0f}'
                        ' s was spent')
                ])
            continue
        print(
            f'[device_check] part {part}: {PARTS[part][0]} '
            f'(limit {limit:.0f} s)',
            flush=True)
        report['parts'][part] = run_part(part, args, limit)
        print(
            f'[device_check] part {part}: '
            f'{report["parts"][part]["status"]} in '
            f'{report["parts"][part]["seconds"]} s',
            flush=True)
    write_report(report, out)
    failed = [p for p, r in report['parts'].items() if r['status'] == 'failed']
    print(f'[device_check] report: {osp.join(out, "report.md")}' +
          (f'; failed parts: {failed}' if failed else ''))
    return 1 if failed else 0


# ----------------------------------------------------------------- worker
def worker(args) -> int:
    """Run one part in this process and write its json (see PARTS)."""
    sys.path.insert(0, REPO)
    out = args.out
    result = dict(status='failed', errors=[])
    try:
        result.update(
            dict(a=part_a, b=part_b, c=part_c, d=part_d)[args.worker](args,
                                                                      out))
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
    command = [
        sys.executable, '-m', 'pytest', '-o', 'addopts=', '-p',
        'no:cacheprovider', '-q', '-rA', '-k', CUDA_TEST_FILTER,
        f'--junitxml={xml}'
    ] + list(CUDA_TESTS)
    process = subprocess.run(
        command,
        cwd=REPO,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors='replace',
        timeout=max(args.budget - 5, 5))
    tests = parse_junit(xml) if osp.exists(xml) else []
    errors = [
        dict(where=t['name'], traceback=t['detail']) for t in tests
        if t['outcome'] in ('failed', 'error')
    ]
    counts = {}
    for t in tests:
        counts[t['outcome']] = counts.get(t['outcome'], 0) + 1
    if not tests:
        errors.append(dict(where='pytest', traceback=process.stdout[-6000:]))
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
        exit_code=process.returncode,
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

    from hman_mmaction.benchmark.parity import run_parity
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
        try:
            process = subprocess.run(
                command,
                cwd=REPO,
                env=child_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors='replace',
                timeout=left)
            output, code = process.stdout, process.returncode
        except subprocess.TimeoutExpired as error:
            output = (error.stdout or b'')
            output = output.decode(
                errors='replace') if isinstance(output, bytes) else output
            output, code = output + f'\n(ran out of {left:.0f} s)', None
        with open(osp.join(out, 'logs', f'c_{name}.log'), 'w') as f:
            f.write(output)
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


def part_d(args, out) -> Dict:
    import shutil

    from hman_mmaction.benchmark.short_train import (short_run,
                                                     write_ucf101_layout)
    _register()
    settings = dict(DRY_TRAIN if args.dry_run else TRAIN)
    root = osp.join(out, 'data', 'ucf101')
    shutil.rmtree(root, ignore_errors=True)  # this run's videos only
    start = time.perf_counter()
    data = write_ucf101_layout(
        root,
        settings['iterations'],
        settings['batch_size'],
        size=settings['size'],
        num_frames=settings['frames'])
    data['seconds'] = round(time.perf_counter() - start, 1)
    runs, errors = {}, []
    for name, config in (('hman', HMAN_CONFIG), ('tsn', TSN_CONFIG)):
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
                name=f'device_check_{name}')
            runs[name]['config'] = config
        except Exception:
            errors.append(
                dict(
                    where=f'training {config}',
                    traceback=traceback.format_exc()))
        finally:
            _free_cuda()
    for name, run in runs.items():
        need = [('finite', run['finite'])]
        if not args.dry_run:  # a few CPU iterations need not fall
            need.append(('falling', run['falling']))
        for what, ok in need:
            if not ok:
                errors.append(
                    dict(
                        where=f'training {run["config"]}',
                        traceback=f'loss not {what}: {run["losses"]}'))
    if 'hman' in runs and 'tsn' in runs and runs['tsn']['iters_per_s']:
        hman, tsn = runs['hman'], runs['tsn']
        runs['ratio'] = dict(
            time_per_iter_vs_tsn=tsn['iters_per_s'] / hman['iters_per_s'],
            peak_memory_vs_tsn=(hman['peak_gpu_mib'] / tsn['peak_gpu_mib']
                                if tsn['peak_gpu_mib'] else None))
    return dict(
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


# ----------------------------------------------------------------- report
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
        'against float32) (`hman_mmaction/benchmark/parity.py`).\n\n' + _table(
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
    for name in ('hman', 'tsn'):
        run = runs.get(name)
        if run is None:
            continue
        rows.append([
            run['config'], run['iterations'], run['batch_size'],
            f'{run["frame_size"]} px x {run["segments"]}',
            run['optim_wrapper'],
            _fmt(run['first_loss'], '.3f'),
            _fmt(run['last_loss'], '.3f'), run['finite'], run['falling'],
            _fmt(run['iters_per_s'], '.2f'),
            _fmt(run['peak_gpu_mib'], '.0f')
        ])
    text = (f'Data: {r.get("data", {}).get("videos")} generated videos '
            f'({r.get("data", {}).get("size")} px, UCF101 layout, '
            f'{len(r.get("data", {}).get("classes", []))} classes), the train '
            'list repeated to one epoch of the iterations; '
            '`pretrained=None` (no ImageNet download).\n\n' + _table(
                ('config', 'iterations', 'batch', 'frames', 'optim wrapper',
                 'first loss', 'last loss', 'finite', 'falling', 'it/s',
                 'peak GPU MiB'), rows))
    if 'ratio' in runs:
        ratio = runs['ratio']
        text += (f'\n\nHM-AN step time x TSN: '
                 f'{ratio["time_per_iter_vs_tsn"]:.2f}; peak memory x TSN: '
                 f'{_fmt(ratio["peak_memory_vs_tsn"], ".2f")}')
    return text


SECTIONS = dict(a=section_a, b=section_b, c=section_c, d=section_d)


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


if __name__ == '__main__':
    sys.exit(main())
