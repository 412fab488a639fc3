"""``tools/device_check.py --download-wheels``: the wheels carried to a GPU
machine, together with what its image holds, cover every distribution
that the plugin, mmaction2 and the device check's parts import; the pins
are this environment's versions; the pip command asks for binary wheels
for the device's Python, without dependencies; a wheel of another version
is removed before the download."""
import json
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement

from hman_lab.device_check import wheels
from hman_lab.runs import REPO

#: what a device check imports (the parts import lazily, in functions)
MODULES = ('hman_mmaction', 'mmaction.models', 'mmaction.datasets',
           'mmaction.evaluation', 'mmaction.engine', 'mmaction.visualization',
           'mmengine.runner', 'hman_lab.device_check.parts',
           'hman_lab.device_check.parity', 'hman_lab.device_check.graphs',
           'hman_lab.device_check.short_train', 'hman_lab.speed.benchmark',
           'decord', 'pytest', 'xdist', 'pytest_timeout')

LOADED = f"""
import importlib, json, sys
for name in {MODULES!r}:
    importlib.import_module(name)
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))
"""


def dependency_tree(root: str) -> set:
    """``root`` and every distribution it requires, transitively (extras
    and requirements whose marker is false here left out)."""
    tree, todo = set(), [root]
    while todo:
        name = wheels.canonical(todo.pop())
        if name in tree:
            continue
        tree.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(
                    dict(extra='')):
                todo.append(requirement.name)
    return tree


def test_the_carried_wheels_and_the_image_cover_every_import():
    out = subprocess.run([sys.executable, '-c', LOADED],
                         cwd=REPO,
                         capture_output=True,
                         text=True,
                         check=True).stdout
    top_level = json.loads(out.strip().splitlines()[-1])
    owners = metadata.packages_distributions()
    imported = {
        wheels.canonical(dist)
        for module in top_level
        for dist in owners.get(module, ())
    }
    # what is imported only because it is installed here (transformers
    # for mmaction2's multimodal models, say) is not needed there
    needed = (imported & dependency_tree('hman-mmaction')) - {'hman-mmaction'}
    assert {'mmengine', 'mmaction2', 'torch', 'numpy'} <= needed
    carried = {wheels.canonical(name) for name in wheels.CARRIED}
    assert needed - wheels.DEVICE_IMAGE - carried == set()
    # nothing carried that the image holds (two versions would clash)
    assert carried & wheels.DEVICE_IMAGE == set()


def test_the_pins_are_the_installed_versions():
    pins = dict(pin.split('==') for pin in wheels.pinned())
    assert list(pins) == list(wheels.CARRIED)
    assert pins['mmaction2'] == metadata.version('mmaction2')


def test_the_download_asks_for_binary_wheels_for_the_device_python():
    command = wheels.download_command('/tmp/w', '3.12', ['a==1', 'b==2'])
    assert command[:4] == [sys.executable, '-m', 'pip', 'download']
    for flag in ('--no-deps', '--only-binary=:all:'):
        assert flag in command
    assert command[command.index('--python-version') + 1] == '3.12'
    assert command[command.index('--dest') + 1] == '/tmp/w'
    assert command[-2:] == ['a==1', 'b==2']
    assert command.count('--platform') == len(wheels.PLATFORMS)


def test_a_wheel_of_another_version_is_stale(tmp_path):
    for name in ('mmengine-0.10.6-py3-none-any.whl',
                 'mmengine-0.10.7-py3-none-any.whl',
                 'mmcv_lite-2.1.0-py2.py3-none-any.whl',
                 'other-1.0-py3-none-any.whl'):
        (tmp_path / name).write_bytes(b'')
    found = wheels.stale(str(tmp_path), ['mmengine==0.10.7', 'mmcv-lite==2.0'])
    assert [p.split('/')[-1] for p in found] == [
        'mmcv_lite-2.1.0-py2.py3-none-any.whl',
        'mmengine-0.10.6-py3-none-any.whl'
    ]
