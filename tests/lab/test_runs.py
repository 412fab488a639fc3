"""hman_lab.runs: the one subprocess runner, the one grid runner and the one
``best_checkpoint`` that every lab program uses."""
import json
import os
import subprocess
import sys
import time

import pytest

from hman_lab.runs import (REPO, ProcessFailed, best_checkpoint, python,
                           run_grid, run_process)


def test_a_command_runs_from_the_repository_with_this_checkout_first(tmp_path):
    log = tmp_path / 'logs' / 'run.log'
    run = run_process(
        python(
            '-c', 'import os, sys; print(os.getcwd()); '
            'print(os.environ["PYTHONPATH"]); '
            'print(os.environ["OMP_NUM_THREADS"]); '
            'print("oops", file=sys.stderr)'),
        log=str(log),
        threads=1)
    assert run.ok and not run.timed_out and run.output == ''
    cwd, path, threads, err = log.read_text().split('\n')[:4]
    assert cwd == REPO and path.split(os.pathsep)[0] == REPO
    assert threads == '1' and err == 'oops'  # stderr in the same log
    assert run.tail(4) == 'ops\n'


def test_a_failure_raises_with_the_end_of_its_output():
    run = run_process(
        python('-c', 'print("the cause"); raise SystemExit(3)'), capture=True)
    assert run.code == 3 and 'the cause' in run.output
    with pytest.raises(ProcessFailed) as info:
        run.check()
    assert isinstance(info.value, subprocess.CalledProcessError)
    assert 'exit 3' in str(info.value) and 'the cause' in str(info.value)


def test_a_command_out_of_time_is_ended_with_what_it_started(tmp_path):
    """The time limit ends the command's whole session: here a child it
    started, which would otherwise outlive it."""
    marker = tmp_path / 'child.pid'
    code = (f'import subprocess, sys, time; p = subprocess.Popen([sys.'
            f'executable, "-c", "import time; time.sleep(60)"]); '
            f'open({str(marker)!r}, "w").write(str(p.pid)); time.sleep(60)')
    start = time.perf_counter()
    run = run_process(python('-c', code), capture=True, timeout=3)
    assert run.timed_out and time.perf_counter() - start < 30
    with pytest.raises(ProcessFailed, match='ran out of its 3 s'):
        run.check()
    child = int(marker.read_text())
    for _ in range(50):  # the child is gone (or a zombie of no one's)
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        with open(f'/proc/{child}/stat') as f:
            if f.read().split()[2] == 'Z':
                break
        time.sleep(0.1)
    else:
        pytest.fail(f'process {child} outlived the time limit')


def runs_in(tmp_path, *names):
    return [dict(name=n, work_dir=str(tmp_path / n)) for n in names]


def test_the_grid_reuses_a_finished_run_made_the_same_way(tmp_path):
    calls = []

    def execute(run, previous):
        calls.append(run['name'])
        return dict(value=len(calls))

    runs = runs_in(tmp_path, 'a', 'b')
    first = run_grid(
        runs, execute, identity=lambda r: [r['name'], 1], result_file='r.json')
    assert calls == ['a', 'b'] and [r['value'] for r in first] == [1, 2]
    saved = json.loads((tmp_path / 'a' / 'r.json').read_text())
    assert saved['identity'] == ['a', 1] and saved['seconds'] >= 0
    again = run_grid(
        runs, execute, identity=lambda r: [r['name'], 1], result_file='r.json')
    assert calls == ['a', 'b'] and all(r['reused'] for r in again)
    # made another way (the identity changed), or asked anew: run again
    run_grid(
        runs, execute, identity=lambda r: [r['name'], 2], result_file='r.json')
    run_grid(
        runs[:1],
        execute,
        identity=lambda r: [r['name'], 2],
        result_file='r.json',
        rerun=True)
    assert calls == ['a', 'b', 'a', 'b', 'a']


def test_an_incomplete_result_is_handed_to_the_executor(tmp_path):
    seen = []

    def execute(run, previous):
        seen.append(previous)
        return dict(done=previous is not None)

    runs = runs_in(tmp_path, 'a')
    args = dict(
        identity=lambda r: 1,
        result_file='r.json',
        identity_key='command',
        complete=lambda run, saved: saved['done'])
    run_grid(runs, execute, **args)
    assert seen == [None]
    run_grid(runs, execute, **args)  # saved but not complete: finish it
    assert seen[1]['done'] is False and seen[1]['command'] == 1
    assert run_grid(runs, execute, **args)[0]['reused']
    assert len(seen) == 2


def test_parallel_runs_are_reported_in_order(tmp_path):
    started, finished = [], []

    def execute(run, previous):
        time.sleep(0.2 if run['name'] == 'a' else 0.0)
        return dict(name=run['name'])

    results = run_grid(
        runs_in(tmp_path, 'a', 'b', 'c'),
        execute,
        identity=lambda r: 0,
        result_file='r.json',
        jobs=3,
        started=lambda n, run: started.append(n),
        finished=lambda n, run, result: finished.append((n, result['name'])))
    assert [r['name'] for r in results] == ['a', 'b', 'c']
    assert sorted(started) == [1, 2, 3]
    assert finished == [(1, 'a'), (2, 'b'), (3, 'c')]


def test_best_checkpoint_prefers_the_newest_best_then_the_last_epoch(tmp_path):
    with pytest.raises(FileNotFoundError, match='did training finish'):
        best_checkpoint(str(tmp_path))
    for name in ('epoch_1.pth', 'epoch_2.pth'):
        (tmp_path / name).write_bytes(b'')
        time.sleep(0.01)
    assert best_checkpoint(str(tmp_path)).endswith('epoch_2.pth')
    with pytest.raises(FileNotFoundError):
        best_checkpoint(str(tmp_path), last_epoch=False)
    for name in ('best_acc_top1_epoch_1.pth', 'best_acc_top1_epoch_2.pth'):
        (tmp_path / name).write_bytes(b'')
        time.sleep(0.01)
    assert best_checkpoint(str(tmp_path)).endswith('best_acc_top1_epoch_2.pth')


def test_the_runner_uses_this_python():
    assert python('-V') == [sys.executable, '-V']
