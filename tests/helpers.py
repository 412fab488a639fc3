"""Helpers for tests that run code in a fresh interpreter."""
import itertools
import os
import subprocess
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CALLS = itertools.count()  # call_tool's runs in this process

BLOCKER = '''
import importlib.abc, sys
class _Block(importlib.abc.MetaPathFinder):
    """Simulates a machine where these modules are not installed."""
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}",
                                      name=name)
        return None
sys.meta_path.insert(0, _Block())
'''


def run_python(code, disable=(), block=(), env=None, cwd=None, timeout=300):
    """Run ``code`` in a new interpreter; ``disable`` names compat fixes to
    skip (HMAN_COMPAT_DISABLE), ``block`` top-level modules made
    unimportable. Returns the CompletedProcess (text, never raises)."""
    source = textwrap.dedent(code)
    if block:
        source = BLOCKER.format(blocked=set(block)) + source
    full_env = dict(os.environ, PYTHONWARNINGS='ignore')
    full_env.pop('HMAN_COMPAT_DISABLE', None)
    if disable:
        full_env['HMAN_COMPAT_DISABLE'] = ','.join(disable)
    full_env.update(env or {})
    return subprocess.run([sys.executable, '-c', source],
                          capture_output=True,
                          text=True,
                          env=full_env,
                          cwd=cwd or REPO,
                          timeout=timeout)


def load_tool(name):
    """``tools/<name>.py`` as a module, to call its ``main(argv)`` in this
    process (fast); ``tools/`` is importable meanwhile, as when it runs."""
    import importlib.util
    folder = os.path.join(REPO, 'tools')
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location(
            f'{name}_tool', os.path.join(folder, f'{name}.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
    return module


def call_tool(name, argv):
    """``tools/<name>.py``'s ``main(argv)`` in this process: what
    :func:`run_tool` proves of a tool run, without a new interpreter's
    imports. Returns a CompletedProcess whose ``stdout`` holds what the run
    printed and logged, then the traceback of an exception it raised
    (``returncode`` 1, or a ``SystemExit``'s code).

    A train or test run gets its own ``experiment_name``: mmengine names a
    run's logger after the config and the second it started, and a second
    run of the same config within that second would log through the first
    one's handlers. The tool's thread count is restored afterwards."""
    import contextlib
    import io
    import traceback

    import torch
    argv = list(argv)
    if name in ('train', 'test'):
        argv += [
            '--cfg-options',
            f'experiment_name=call{next(_CALLS)}_{os.getpid()}'
        ]
    output, returncode, threads = io.StringIO(), 0, torch.get_num_threads()
    with contextlib.redirect_stdout(output), \
            contextlib.redirect_stderr(output):
        try:
            load_tool(name).main(argv)
        except SystemExit as error:
            if isinstance(error.code, int) or error.code is None:
                returncode = error.code or 0
            else:
                print(error.code)
                returncode = 1
        except Exception:
            traceback.print_exc(file=output)
            returncode = 1
        finally:
            torch.set_num_threads(threads)
    return subprocess.CompletedProcess(argv, returncode, output.getvalue())


def run_tool(args, env=None, cwd=None, timeout=600):
    """Run ``python <args>`` from the repository root; returns the
    CompletedProcess with stdout and stderr merged into ``.stdout``."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable] + list(args),
        cwd=cwd or REPO,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors='replace',
        timeout=timeout)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def single_process_group_env():
    """torchrun's variables for a world of one process on this machine."""
    return dict(
        RANK='0',
        WORLD_SIZE='1',
        LOCAL_RANK='0',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(free_port()))


def make_tiny_dataset(root, train=8, val=4, test=4, seed=0):
    """A few small synthetic action videos (real mp4 files) in ``root``."""
    from hman_mmaction.datasets.synthetic_actions import (SyntheticActionSpec,
                                                          generate_dataset)
    spec = SyntheticActionSpec(
        size=32, num_frames=16, object_size=5, num_distractors=1)
    return generate_dataset(
        str(root),
        dict(train=train, val=val, test=test),
        spec,
        seed=seed,
        progress=False)


def data_overrides(root, batch_size=4, workers=0):
    """``--cfg-options`` that point a synthetic-actions config at ``root``
    and keep the run small."""
    from hman_mmaction.datasets.synthetic_actions import config_overrides
    return config_overrides(root, batch_size=batch_size, workers=workers)


def default_boundary_options() -> dict:
    """The boundary pieces of the default config (``configs/hman_demo.py``)
    as ``HMANHead`` options, for test heads of their own sizes: the change
    features, the next-step predictor and its loss, the change-peak targets
    at the predictor's error (rate 0.25), and the attention penalty."""
    return dict(
        change_features=['map_diff', 'map_change', 'pred_error'],
        predictor=dict(type='NextStepPredictor', target='frame'),
        loss_predict=dict(type='NextStepPredictionLoss', loss_weight=1.0),
        loss_segment=dict(
            type='BoundarySupervisionLoss',
            targets='change_peaks',
            score='pred_error',
            rate=0.25),
        loss_attention=dict(type='AttentionCoverageLoss', loss_weight=1.0))
