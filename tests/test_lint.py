"""The code follows OpenMMLab's style (setup.cfg: flake8, isort, yapf), as
``.pre-commit-config.yaml`` enforces on commit. The linters come with
``pip install -e .[tests]``; without them these tests are skipped."""
import importlib.util
import subprocess
import sys

import pytest

from tests.helpers import REPO

PATHS = ['hman_mmaction', 'hman_lab', 'tools', 'tests', 'configs']
FIX = ('isort hman_mmaction hman_lab tools tests configs && '
       'yapf -i -r hman_mmaction hman_lab tools tests configs')


def run_linter(module, *args):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f'{module} is not installed: pip install -e .[tests] '
                    'installs the pinned linters')
    return subprocess.run([sys.executable, '-m', module, *args],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=600)


def test_flake8_finds_nothing():
    result = run_linter('flake8', *PATHS)
    assert result.returncode == 0, (
        f'flake8 (settings in setup.cfg):\n{result.stdout}{result.stderr}')


def test_imports_are_sorted_like_isort_does():
    result = run_linter('isort', '--check-only', '--diff', *PATHS)
    assert result.returncode == 0, (
        f'isort would change the imports; run `{FIX}`:\n'
        f'{result.stdout[-6000:]}{result.stderr[-2000:]}')


def test_code_is_formatted_like_yapf_does():
    result = run_linter('yapf', '--diff', '--recursive', *PATHS)
    assert result.returncode == 0 and not result.stdout, (
        f'yapf would reformat; run `{FIX}`:\n'
        f'{result.stdout[-6000:]}{result.stderr[-2000:]}')
