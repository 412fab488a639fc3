"""The layout holds (issue 32, docs/layout.md): every module of the plugin
(``hman_mmaction``), the lab (``hman_lab``) and ``tools/`` stands on a
floor and imports only its own unit and the floors below it, at the top
of the file or inside a function alike; the plugin never imports the lab;
a tool is thin and imports no other tool.

The imports are read from the source (``ast``), nothing is imported."""
import ast
import glob
import os.path as osp

import pytest

from tests.helpers import REPO

# lowest first; a unit imports its own modules and the units of lower
# floors only, never one beside it (docs/layout.md)
FLOORS = (
    ('hman_mmaction.compat', 'hman_mmaction.version'),
    ('hman_mmaction.models', 'hman_mmaction.datasets'),
    ('hman_mmaction.evaluation', ),
    ('hman_mmaction.features', ),
    ('hman_mmaction.engine', ),
    ('hman_mmaction.apis', ),
    ('hman_mmaction.visualization', ),
    ('hman_mmaction', ),  # the package: compat fixes, registers everything
    ('hman_lab.runs', 'hman_lab.tables'),
    ('hman_lab.speed', ),
    ('hman_lab.accuracy', ),
    ('hman_lab.device_check', 'hman_lab.demo', 'hman_lab.readme_figures'),
    ('hman_lab', ),  # imports nothing
    ('tools', ),
)
FLOOR = {unit: number for number, units in enumerate(FLOORS) for unit in units}
FACES = ('hman_mmaction', 'hman_lab')  # a package's __init__ only
TOOL_HELPERS = ('plugin_environment', 'launch_args')  # tools/, not tools
TOOL_LINES = 150  # argparse and one call of the lab or the plugin


def modules():
    """``{module name: path}`` of the plugin, the lab and the tools."""
    found = {}
    for package in FACES:
        for path in glob.glob(
                osp.join(REPO, package, '**', '*.py'), recursive=True):
            name = osp.relpath(path, REPO)[:-3].replace(osp.sep, '.')
            found[name[:-len('.__init__')] if name.endswith('.__init__'
                                                            ) else name] = path
    for path in glob.glob(
            osp.join(REPO, 'tools', '**', '*.py'), recursive=True):
        found['tools.' + osp.relpath(path, osp.join(REPO, 'tools'))
              [:-3].replace(osp.sep, '.')] = path
    return found


MODULES = modules()


def imports(name, path):
    """``(line, imported module)`` of every import in the file, at any
    depth; ``from a import b`` names ``a.b`` when that is a module."""
    tree = ast.parse(open(path).read(), path)
    package = name if path.endswith('__init__.py') else name.rpartition('.')[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                parts = parts[:len(parts) - node.level + 1]
                base = '.'.join(parts + ([base] if base else []))
            for alias in node.names:
                target = f'{base}.{alias.name}'
                found.append(
                    (node.lineno, target if target in MODULES else base))
    return found


def unit(module):
    """The unit of ``module`` (a key of :data:`FLOOR`), 'tool-helper', or
    None for a module outside the plugin, the lab and the tools."""
    if module.startswith('tools.') or module in TOOL_HELPERS:
        name = module.rpartition('.')[2]
        return 'tool-helper' if name in TOOL_HELPERS else 'tools'
    if module in FACES:
        return module
    best = None
    for key in FLOOR:
        if key not in FACES and (module == key
                                 or module.startswith(key + '.')):
            best = key if best is None or len(key) > len(best) else best
    if best is None and module.split('.')[0] in FACES:
        return 'no floor'
    return best


def test_every_module_has_a_floor():
    assert [m for m in MODULES if unit(m) == 'no floor'] == []


def test_no_import_runs_up_or_across_the_floors():
    wrong = []
    for name, path in MODULES.items():
        mine = unit(name)
        for line, target in imports(name, path):
            theirs = unit(target)
            if theirs is None or theirs == mine:
                continue
            if theirs == 'tool-helper' and mine in ('tools', 'tool-helper'):
                continue
            helper = FLOOR['tools'] if theirs == 'tool-helper' else None
            floor = FLOOR.get(theirs, helper)
            if floor >= FLOOR.get(mine, FLOOR['tools']):
                wrong.append(f'{osp.relpath(path, REPO)}:{line} ({mine}) '
                             f'imports {target} ({theirs})')
    assert wrong == [], 'imports up or across the floors:\n' + '\n'.join(wrong)


def test_the_plugin_never_imports_the_lab_or_the_tools():
    wrong = [
        f'{osp.relpath(path, REPO)}:{line} imports {target}'
        for name, path in MODULES.items() if name.startswith('hman_mmaction')
        for line, target in imports(name, path)
        if target.split('.')[0] in ('hman_lab', 'tools') + TOOL_HELPERS
    ]
    assert wrong == []


def test_no_tool_imports_another_tool():
    wrong = [
        f'{osp.relpath(path, REPO)}:{line} imports {target}'
        for name, path in MODULES.items() if name.startswith('tools.')
        for line, target in imports(name, path)
        if unit(target) == 'tools' or target in
        {m.rpartition('.')[2]
         for m in MODULES if m.startswith('tools.')} - set(TOOL_HELPERS)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    'tool',
    sorted(
        osp.relpath(p, REPO) for p in glob.glob(
            osp.join(REPO, 'tools', '**', '*.py'), recursive=True)))
def test_a_tool_is_argparse_and_one_library_call(tool):
    with open(osp.join(REPO, tool)) as f:
        lines = len(f.readlines())
    assert lines <= TOOL_LINES, (
        f'{tool} has {lines} lines: its logic belongs in hman_lab (or the '
        'plugin), the tool parses the flags and makes one call')


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """A lazy import of the lab inside a plugin function is caught."""
    path = tmp_path / 'bad.py'
    path.write_text('def f():\n    from hman_lab.tables import NA\n')
    monkeypatch.setitem(MODULES, 'hman_mmaction.models.bad', str(path))
    with pytest.raises(AssertionError, match='bad.py:2'):
        test_no_import_runs_up_or_across_the_floors()
    with pytest.raises(AssertionError):
        test_the_plugin_never_imports_the_lab_or_the_tools()
