"""What the lab's programs share: one process, a grid of runs, a checkpoint.

* :func:`run_process`: the subprocess runner. A command runs from the
  repository root in its own session (a time limit or a Ctrl-C ends it
  with everything it started: data workers, pytest, compile workers), this
  checkout first on its ``PYTHONPATH`` (the child imports the same
  packages as this process), its output to the terminal, to a log file or
  captured; it returns a :class:`Finished`, whose :meth:`~Finished.check`
  raises :class:`ProcessFailed` with the end of the output.
* :func:`run_grid`: the grid runner. Every run (configs x seeds x ...)
  keeps its result in its own folder; a finished run made the same way is
  reused, so an interrupted grid continues where it stopped.
* :func:`best_checkpoint`: the checkpoint a finished training leaves.

Standard library only: the device check runs this before the OpenMMLab
stack may be installed.
"""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

#: the repository root (the lab runs from a checkout: configs, tools)
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
_RUNNING = set()  # processes started by run_process, not yet ended
_LOCK = threading.Lock()
_STOPPING = threading.Event()  # a Ctrl-C in run_grid: start no command


def python(*args: str) -> List[str]:
    """``[this python, *args]``."""
    return [sys.executable, *args]


def child_env(threads: Optional[int] = None, **extra: str) -> Dict[str, str]:
    """This environment with the repository first on ``PYTHONPATH``;
    ``threads``: ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS``; ``extra``:
    more variables."""
    env = dict(os.environ, **extra)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


class ProcessFailed(subprocess.CalledProcessError):
    """A command that exited with an error or ran out of time; its message
    ends with the end of the command's output."""

    def __init__(self, finished: 'Finished'):
        super().__init__(finished.code, finished.command, finished.tail())
        self.finished = finished

    def __str__(self) -> str:
        run = self.finished
        why = (f'ran out of its {run.timeout:.0f} s'
               if run.timed_out else f'exit {run.code}')
        where = f'; log {run.log}' if run.log else ''
        return (f'{" ".join(map(str, run.command))} failed ({why}){where}:'
                f'\n{run.tail(3000)}')


@dataclass
class Finished:
    """How a command of :func:`run_process` ended."""
    command: List[str]
    code: Optional[int]  # None: ended after its time limit
    seconds: float
    output: str = ''  # the captured output ('' unless capture=True)
    log: Optional[str] = None
    timeout: Optional[float] = None

    @property
    def timed_out(self) -> bool:
        return self.code is None

    @property
    def ok(self) -> bool:
        return self.code == 0

    def text(self) -> str:
        """The whole output: captured, or the log file's."""
        if self.log is None or not osp.isfile(self.log):
            return self.output
        with open(self.log, errors='replace') as f:
            return f.read()

    def tail(self, chars: int = 6000) -> str:
        return self.text()[-chars:]

    def check(self) -> 'Finished':
        """This, if the command exited with status 0; else raise."""
        if not self.ok:
            raise ProcessFailed(self)
        return self


def run_process(command: Sequence[str],
                log: Optional[str] = None,
                capture: bool = False,
                timeout: Optional[float] = None,
                threads: Optional[int] = None,
                env: Optional[Dict[str, str]] = None,
                echo: bool = False,
                cwd: str = REPO) -> Finished:
    """Run ``command`` and wait for it (see the module doc).

    Args:
        command: the argv (:func:`python` for a Python command).
        log: write stdout and stderr to this file.
        capture: keep stdout and stderr in ``Finished.output``.
        timeout: seconds; after them the command ends (SIGTERM, then
            SIGKILL to its session) and ``Finished.code`` is None.
        threads: torch threads of the child (``OMP_NUM_THREADS``).
        env: more environment variables.
        echo: print ``+ command`` first.
        cwd: the working folder (default the repository root).

    Without ``log`` and ``capture`` the output goes to this terminal. A
    Ctrl-C while waiting ends the command, then raises
    ``KeyboardInterrupt`` here.
    """
    command = [str(c) for c in command]
    if _STOPPING.is_set():
        raise KeyboardInterrupt
    if echo:
        print('+ ' + ' '.join(command), flush=True)
    with _output(log, capture) as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=child_env(threads, **(env or {})),
            stdout=out,
            stderr=None if out is None else subprocess.STDOUT,
            start_new_session=True)
        with _LOCK:
            _RUNNING.add(process)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
            end_process(process)
        except BaseException:  # Ctrl-C: the child first, then the caller
            end_process(process, grace=30)
            raise
        finally:
            with _LOCK:
                _RUNNING.discard(process)
        seconds = time.perf_counter() - start
        output = ''
        if capture:
            out.seek(0)
            output = out.read().decode(errors='replace')
    return Finished(command, code, seconds, output, log, timeout)


class _output:
    """The child's stdout: None (the terminal), the log file or a
    temporary file (capture: no pipe to fill up)."""

    def __init__(self, log: Optional[str], capture: bool):
        self.log, self.capture, self.file = log, capture, None

    def __enter__(self):
        if self.log is not None:
            os.makedirs(osp.dirname(osp.abspath(self.log)), exist_ok=True)
            self.file = open(self.log, 'wb')
        elif self.capture:
            self.file = tempfile.TemporaryFile()
        return self.file

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()


def end_process(process: subprocess.Popen, grace: float = 10) -> None:
    """End ``process`` and everything in its session: SIGTERM, ``grace``
    seconds, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def end_all() -> None:
    """End every command :func:`run_process` is waiting for (a Ctrl-C in
    the main thread while other threads wait for theirs)."""
    with _LOCK:
        running = list(_RUNNING)
    for process in running:
        end_process(process)


def _as_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists ...)."""
    return json.loads(json.dumps(value, default=str))


def run_grid(runs: Sequence[dict],
             execute: Callable[[dict, Optional[dict]], dict],
             identity: Callable[[dict], Any],
             result_file: str,
             identity_key: str = 'identity',
             jobs: int = 1,
             complete: Optional[Callable[[dict, dict], bool]] = None,
             rerun: bool = False,
             started: Optional[Callable[[int, dict], None]] = None,
             finished: Optional[Callable[[int, dict, dict],
                                         None]] = None) -> List[dict]:
    """The result of every run, in the order of ``runs``.

    A run is a dict with its ``work_dir``. Its result is the one saved in
    ``<work_dir>/<result_file>`` if that was made the same way (its
    ``identity_key`` equals ``identity(run)``) and is ``complete(run,
    saved)`` (default: always), marked ``reused``; else
    ``execute(run, previous)``, saved with its identity and ``seconds``.
    ``previous`` is a saved result made the same way but not complete (the
    executor may finish it rather than start again), else None; ``rerun``
    executes every run afresh.

    ``jobs`` runs at a time (threads: a run's work is a subprocess; 1 runs
    them in this thread, in order). ``started(number, run)`` is called as
    a run starts, ``finished(number, run, result)`` in the order of the
    runs (numbers from 1). A Ctrl-C ends every command the runs started.
    """

    def one(number: int, run: dict) -> dict:
        if started is not None:
            started(number, run)
        path = osp.join(run['work_dir'], result_file)
        wanted = _as_json(identity(run))
        previous = None
        if osp.isfile(path) and not rerun:
            with open(path) as f:
                saved = json.load(f)
            if saved.get(identity_key) == wanted:
                if complete is None or complete(run, saved):
                    saved['reused'] = True
                    return saved
                previous = saved
        start = time.time()
        result = execute(run, previous)
        result[identity_key] = wanted
        result['seconds'] = time.time() - start
        os.makedirs(run['work_dir'], exist_ok=True)
        with open(path, 'w') as f:
            json.dump(result, f, indent=1, default=str)
        return result

    results = []
    if jobs <= 1:
        for number, run in enumerate(runs, start=1):
            results.append(one(number, run))
            if finished is not None:
                finished(number, run, results[-1])
        return results
    with ThreadPoolExecutor(jobs) as pool:
        futures = [
            pool.submit(one, number, run)
            for number, run in enumerate(runs, start=1)
        ]
        try:
            for number, (run, future) in enumerate(
                    zip(runs, futures), start=1):
                results.append(future.result())
                if finished is not None:
                    finished(number, run, results[-1])
        except BaseException:
            _STOPPING.set()
            for future in futures:
                future.cancel()
            end_all()
            raise
        finally:
            pool.shutdown(wait=True)
            _STOPPING.clear()
    return results


def best_checkpoint(work_dir: str, last_epoch: bool = True) -> str:
    """The newest ``best_*.pth`` of ``work_dir`` or, with ``last_epoch``
    and none there, its newest ``epoch_*.pth``; ``FileNotFoundError`` when
    there is none."""
    patterns = ('best_*.pth',
                'epoch_*.pth') if last_epoch else ('best_*.pth', )
    for pattern in patterns:
        found = sorted(
            glob.glob(osp.join(work_dir, pattern)), key=osp.getmtime)
        if found:
            return found[-1]
    raise FileNotFoundError(f'no checkpoint ({" or ".join(patterns)}) in '
                            f'{work_dir}: did training finish? See its log '
                            'there.')
