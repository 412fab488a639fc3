"""The GPU check (``tools/device_check.py``): one command that tells
whether the plugin's CUDA lines work and how fast they are, on one GPU in
a few minutes.

:func:`run_device_check` installs the stack's wheels if asked
(``--install-wheels``, before anything else is imported), stops with
status 2 without a CUDA device (unless ``--dry-run``), runs every part of
:mod:`hman_lab.device_check.parts` in its own process with a time limit
(:func:`run_part`: a crash, a hung compile or a CUDA error ends that part
only) and writes the report (:mod:`hman_lab.device_check.report`) with
its ``acceptance`` block (:mod:`hman_lab.device_check.acceptance`).
"""
import datetime
import glob
import json
import os
import os.path as osp
import platform
import sys
import time
from typing import Dict, List

from ..runs import REPO, python, run_process
from .acceptance import acceptance
from .parts import (DEFAULT_PARTS, DRY_LIMIT, ORDER, PARTS, PYTEST_MODULES,
                    STACK, worker)
from .report import write_report
from .wheels import download_wheels

__all__ = ['DEFAULT_PARTS', 'ORDER', 'run_device_check']


def install_wheels(folder: str) -> Dict:
    wheels = sorted(glob.glob(osp.join(folder, '*.whl')))
    if not wheels:
        return dict(status='failed', error=f'no *.whl files in {folder}')
    command = python('-m', 'pip', 'install', '--no-index', '--find-links',
                     folder, '--no-deps', *wheels)
    result = run_process(command, capture=True)
    if 'externally-managed-environment' in result.output:  # PEP 668 python
        command.insert(4, '--break-system-packages')
        result = run_process(command, capture=True)
    return dict(
        status='passed' if result.ok else 'failed',
        wheels=[osp.basename(w) for w in wheels],
        output=result.output[-4000:])


def report_download(folder: str, device_python: str) -> int:
    """``--download-wheels``: fill ``folder``, say what is there and how to
    use it; the exit status."""
    result = download_wheels(folder, device_python)
    if result['status'] != 'passed':
        print(result['output'])
        print(f'device_check: downloading {result["requirements"]} for '
              f'Python {device_python} failed (pip above).')
        return 1
    for name in result['removed']:
        print(f'removed {name} (another version than installed here)')
    print(f'{len(result["wheels"])} wheels, {result["megabytes"]} MiB in '
          f'{folder}: {", ".join(result["wheels"])}\n'
          f'On the GPU machine (Python {device_python}): python '
          f'tools/device_check.py --install-wheels {folder}')
    return 0


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
        git = run_process(['git', 'rev-parse', '--short', 'HEAD'],
                          capture=True)
        info['commit'] = (git.output.strip() or None) if git.ok else None
    except OSError:
        info['commit'] = None
    return info


def run_part(part: str, args, limit: float) -> Dict:
    """Run one part in a fresh process; its result, or a failure with the
    end of its output when it crashed or ran out of time."""
    out = osp.abspath(args.out)
    result_file = osp.join(out, 'parts', f'{part}.json')
    log_file = osp.join(out, 'logs', f'{part}.log')
    if osp.exists(result_file):
        os.remove(result_file)
    command = python('-m', 'hman_lab.device_check.parts', part, out,
                     str(limit)) + (['--dry-run'] if args.dry_run else [])
    process = run_process(
        command,
        log=log_file,
        timeout=limit,
        env=dict(PYTHONWARNINGS='ignore'))
    if osp.exists(result_file):
        with open(result_file) as f:
            result = json.load(f)
    else:
        result = dict(status='failed', errors=[])
    if not process.ok or not osp.exists(result_file):
        why = (f'ran out of its {limit:.0f} s'
               if process.timed_out else f'exited with status {process.code}')
        result['status'] = 'failed'
        result.setdefault('errors', []).append(
            dict(
                where=f'part {part} process',
                traceback=f'{why}\n{process.tail(6000)}'))
    result.update(
        seconds=round(process.seconds, 1), limit_s=round(limit), log=log_file)
    return result


def run_device_check(args) -> int:
    """``tools/device_check.py``: every part of ``args.parts`` in its own
    process within ``args.budget`` seconds, then the report; the exit
    status (1 if a part failed). ``args.worker``: run that part here
    instead (what :func:`run_part` starts)."""
    if args.worker:
        return worker(args)
    if getattr(args, 'download_wheels', None):
        return report_download(args.download_wheels, args.device_python)
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
    report['acceptance'] = acceptance(report)
    write_report(report, out)
    failed = [p for p, r in report['parts'].items() if r['status'] == 'failed']
    print(f'[device_check] report: {osp.join(out, "report.md")}' +
          (f'; failed parts: {failed}' if failed else ''))
    return 1 if failed else 0
