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
