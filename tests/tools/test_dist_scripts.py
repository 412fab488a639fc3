"""tools/dist_train.sh and tools/dist_test.sh hand their tool and flags to
torchrun (through tools/torchrun.sh) with the node settings."""
import os
import subprocess

import pytest

from tests.helpers import REPO


@pytest.fixture
def fake_python(tmp_path):
    """A ``python`` on PATH that prints its arguments instead of running."""
    fake = tmp_path / 'python'
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(0o755)
    return str(tmp_path)


def run_script(fake_python, *args, **env):
    full_env = dict(os.environ, **env)
    full_env['PATH'] = fake_python + os.pathsep + full_env['PATH']
    full_env['PYTHON'] = os.path.join(fake_python, 'python')
    for name in ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT'):
        if name not in env:
            full_env.pop(name, None)
    result = subprocess.run(
        ['bash'] + list(args),
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        check=True)
    return result.stdout.split()


def test_dist_train_runs_train_py_under_torchrun(fake_python):
    argv = run_script(fake_python, 'tools/dist_train.sh', 'a.py', '2', '--amp')
    assert argv[:2] == ['-m', 'torch.distributed.run']
    assert '--nproc_per_node=2' in argv and '--nnodes=1' in argv
    assert '--master_port=29500' in argv
    assert argv[-5:] == [
        os.path.join(REPO, 'tools', 'train.py'), 'a.py', '--launcher',
        'pytorch', '--amp'
    ]


def test_dist_test_runs_test_py_with_the_node_settings(fake_python):
    argv = run_script(
        fake_python,
        'tools/dist_test.sh',
        'a.py',
        'b.pth',
        '4',
        '--dump',
        'x.pkl',
        NNODES='2',
        PORT='1234')
    assert '--nproc_per_node=4' in argv and '--nnodes=2' in argv
    assert '--master_port=1234' in argv
    assert argv[-7:] == [
        os.path.join(REPO, 'tools', 'test.py'), 'a.py', 'b.pth', '--launcher',
        'pytorch', '--dump', 'x.pkl'
    ]


@pytest.mark.parametrize('activated', [False, True])
def test_torchrun_uses_the_repositorys_venv_unless_one_is_active(
        fake_python, tmp_path, activated):
    # issue 21: torchrun.sh called plain `python`, the system one when the
    # README's .venv was not activated, which cannot import the plugin
    import shutil
    repo = tmp_path / 'clone'
    (repo / 'tools').mkdir(parents=True)
    shutil.copy(os.path.join(REPO, 'tools', 'torchrun.sh'), repo / 'tools')
    (repo / '.venv' / 'bin').mkdir(parents=True)
    venv_python = repo / '.venv' / 'bin' / 'python'
    venv_python.write_text('#!/bin/sh\necho venv "$@"\n')
    venv_python.chmod(0o755)
    env = dict(os.environ)
    env['PATH'] = fake_python + os.pathsep + env['PATH']
    for name in ('PYTHON', 'VIRTUAL_ENV', 'CONDA_PREFIX'):
        env.pop(name, None)
    if activated:
        env['VIRTUAL_ENV'] = str(tmp_path / 'other_env')
    result = subprocess.run(
        ['bash', str(repo / 'tools' / 'torchrun.sh'), '2', 'train.py'],
        env=env,
        capture_output=True,
        text=True,
        check=True)
    words = result.stdout.split()
    assert (words[0] == 'venv') != activated
    assert 'torch.distributed.run' in words


@pytest.mark.parametrize('tool', ['train', 'test', 'demo'])
def test_a_python_without_the_plugin_is_told_which_python_to_use(tool):
    # issue 21: with the system python (no .venv activated) the tools
    # ended in a traceback; -E -S: an interpreter without site-packages
    import sys
    result = subprocess.run(
        [sys.executable, '-E', '-S', f'tools/{tool}.py', '--help'],
        cwd=REPO,
        capture_output=True,
        text=True)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert f'.venv/bin/python tools/{tool}.py' in result.stderr
    assert 'source .venv/bin/activate' in result.stderr
