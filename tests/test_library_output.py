"""The package logs through mmengine (``print_log``) instead of printing:
a library call must not write to the user's stdout."""
import ast
import os

from tests.helpers import REPO

PACKAGE = os.path.join(REPO, 'hman_mmaction')
# The synthetic data generator closes its ProgressBar line with print().
ALLOWED = {os.path.join('datasets', 'synthetic_actions.py')}


def print_calls(path):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    return [
        node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name) and node.func.id == 'print'
    ]


def test_package_does_not_print():
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            path = os.path.join(folder, name)
            if (name.endswith('.py')
                    and os.path.relpath(path, PACKAGE) not in ALLOWED):
                lines = print_calls(path)
                if lines:
                    found[os.path.relpath(path, REPO)] = lines
    assert not found, f'print() in the package (use print_log): {found}'


def test_package_never_disables_logging_process_wide():
    found = []
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                with open(os.path.join(folder, name), encoding='utf-8') as f:
                    if 'logging.disable(' in f.read():
                        found.append(name)
    assert not found
