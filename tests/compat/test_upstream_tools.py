"""mmaction2's own tools, run unchanged from the wheel, work with our configs
(issue 14, item 5).

``confusion_matrix.py`` and ``reparameterize_model.py`` import
``mmaction.models`` before they read a config; the import hook installed
with the package (``hman_mmaction_imports.pth`` + ``_hman_mmaction_imports``)
provides the module the wheel lacks. The tools run with the python of a
venv made the README's way (``make venv``: an editable install) and of a
regular ``pip install .`` (issue 21: the editable install used to lack the
hook, and the test used a made-up site directory). ``check_videos.py``
insists on the dataset type ``VideoDataset``: our configs name
``CheckedVideoDataset`` (issue 34: mmaction2's name stays mmaction2's), so
the tool is given ``--cfg-options train_dataloader.dataset.type=VideoDataset``
(docs/robustness.md)."""
import os
import os.path as osp
import pickle
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import mmaction
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from hman_mmaction.datasets.synthetic_actions import config_overrides
from tests.helpers import REPO, make_tiny_dataset

TOOLS = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools')
PTH = 'hman_mmaction_imports.pth'
DEMO = 'configs/hman_demo.py'
DRN_ERROR = "No module named 'mmaction.models.localizers.drn'"

SOURCE_FILES = ('setup.py', 'setup.cfg', 'README.md', 'Makefile',
                '_hman_mmaction_imports.py', PTH)
WITHOUT_HOOK = (
    'import sys, _hman_mmaction_imports as h\n'
    'sys.meta_path[:] = [f for f in sys.meta_path\n'
    '                    if not isinstance(f, h.MissingModuleFinder)]\n')


def copy_source(target):
    """The files a clone has that an install reads (the build leaves files
    behind, so never the repository itself)."""
    target.mkdir()
    for name in SOURCE_FILES:
        shutil.copy(osp.join(REPO, name), target / name)
    for folder in ('hman_mmaction', 'configs'):
        shutil.copytree(
            osp.join(REPO, folder),
            target / folder,
            ignore=shutil.ignore_patterns('__pycache__', '*.egg-info'))
    return target


def venv_maker(folder):
    """A ``PYTHON`` for the Makefile: ``python -m venv DIR`` with this
    interpreter's base Python, then DIR sees the packages this test runs
    with (torch, mmaction2 ...: no download) through a plain path line.
    A path line adds no site directory: the .pth files of this
    environment (its own install of the plugin) do not run there."""
    deps = sysconfig.get_paths()['purelib']
    script = folder / 'python'
    script.write_text('#!/bin/sh\n'
                      f'"{sys._base_executable}" "$@" || exit $?\n'
                      '[ "$1 $2" = "-m venv" ] || exit 0\n'
                      'site=$("$3/bin/python" -c "import sysconfig; '
                      'print(sysconfig.get_paths()[\'purelib\'])")\n'
                      f'echo "{deps}" > "$site/zz_test_dependencies.pth"\n')
    script.chmod(0o755)
    return str(script)


def site_packages(venv):
    return subprocess.run([
        osp.join(venv, 'bin', 'python'), '-c',
        'import sysconfig; print(sysconfig.get_paths()["purelib"])'
    ],
                          check=True,
                          capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture(scope='module')
def venvs(tmp_path_factory):
    """``{'editable': venv, 'regular': venv}``: the README's install
    (``make venv``: ``pip install --no-build-isolation -e '.[tests]'``) and
    a regular ``pip install --no-build-isolation .``, each of a fresh copy
    of the source into a fresh venv."""
    if shutil.which('make') is None:
        pytest.skip('make is not installed')
    folder = tmp_path_factory.mktemp('installs')
    python = venv_maker(folder)
    made = {}
    source = copy_source(folder / 'editable_source')
    venv = str(folder / 'editable_venv')
    result = subprocess.run(
        ['make', 'venv', f'PYTHON={python}', f'VENV={venv}'],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    made['editable'] = venv
    source = copy_source(folder / 'regular_source')
    venv = str(folder / 'regular_venv')
    subprocess.run([python, '-m', 'venv', venv], check=True)
    result = subprocess.run([
        osp.join(venv, 'bin', 'python'), '-m', 'pip', 'install', '-q',
        '--no-build-isolation', '.'
    ],
                            cwd=source,
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    made['regular'] = venv
    return made


@pytest.fixture(scope='module')
def tiny_dataset(tmp_path_factory):
    return make_tiny_dataset(
        tmp_path_factory.mktemp('synthetic_actions'), train=3, val=2, test=2)


def run_upstream(tool, args, venv=None, cwd=REPO, hook=True):
    """``python <wheel>/tools/<tool> args``: with ``venv``'s own python, as
    a user runs it (``.venv/bin/python ...``); without, this interpreter,
    ``hook=False`` taking the start-up hook out first (the breakage)."""
    path = osp.join(TOOLS, tool)
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env.pop('HMAN_COMPAT_DISABLE', None)
    env.pop('PYTHONPATH', None)
    if venv is not None:
        command = [osp.join(venv, 'bin', 'python'), path] + list(args)
    else:
        env['PYTHONPATH'] = REPO
        code = ('import runpy, sys\n' + ('' if hook else WITHOUT_HOOK) +
                f'sys.argv = {[tool] + list(args)!r}\n'
                f'runpy.run_path({path!r}, run_name="__main__")')
        command = [sys.executable, '-c', code]
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors='replace',
        timeout=300)


def data_options(root):
    return ['--cfg-options'] + config_overrides(str(root))


def test_the_wheel_installs_the_hook_next_to_the_package(tmp_path):
    source = tmp_path / 'source'  # a copy: the build leaves files behind
    source.mkdir()
    for name in ('setup.py', 'README.md', '_hman_mmaction_imports.py', PTH):
        shutil.copy(osp.join(REPO, name), source / name)
    shutil.copytree(
        osp.join(REPO, 'hman_mmaction'),
        source / 'hman_mmaction',
        ignore=shutil.ignore_patterns('__pycache__'))
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel',
        str(source), '--no-deps', '--no-build-isolation', '-q', '-w',
        str(tmp_path)
    ],
                   check=True,
                   cwd=source,
                   capture_output=True)
    [wheel] = [p for p in os.listdir(tmp_path) if p.endswith('.whl')]
    names = zipfile.ZipFile(tmp_path / wheel).namelist()
    assert PTH in names and '_hman_mmaction_imports.py' in names
    with open(osp.join(REPO, PTH)) as f:
        assert f.read().startswith('import _hman_mmaction_imports;')


def test_the_hook_provides_only_the_missing_modules():
    code = ('import sys, _hman_mmaction_imports as h\n'
            'h.install()\n'
            'assert h.MissingModuleFinder().find_spec("mmaction.models") '
            'is None\n'
            'assert h.MissingModuleFinder().find_spec("torch") is None\n'
            'assert "torch" not in sys.modules\n'
            'assert "mmaction" not in sys.modules\n'
            '# slow to import: only when the multimodal guard asks\n'
            'assert "importlib.metadata" not in sys.modules\n'
            'from mmaction.models.localizers.drn.drn import DRN\n'
            'from mmaction.registry import MODELS\n'
            'assert MODELS.get("DRN") is DRN\n')
    result = subprocess.run([sys.executable, '-c', code],
                            cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=REPO),
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


INSTALLS = ('editable', 'regular')


@pytest.mark.slow
@pytest.mark.parametrize('install', INSTALLS)
def test_the_install_puts_the_start_up_hook_into_site_packages(venvs, install):
    # issue 21: the editable install of `make` used to leave only
    # __editable__...pth, so mmaction2's tools failed for every user
    site = site_packages(venvs[install])
    assert PTH in os.listdir(site)
    with open(osp.join(site, PTH)) as f:
        assert f.read() == open(osp.join(REPO, PTH)).read()


@pytest.mark.slow
@pytest.mark.parametrize('install', INSTALLS)
@pytest.mark.parametrize(
    'tool',
    ['analysis_tools/confusion_matrix.py', 'convert/reparameterize_model.py'])
def test_upstream_tools_start_in_the_venv(venvs, install, tool):
    result = run_upstream(tool, ['--help'], venv=venvs[install])
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'usage:' in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize('install', INSTALLS)
def test_confusion_matrix_tool_runs_with_our_config(venvs, install,
                                                    tiny_dataset, tmp_path):
    predictions = [
        dict(
            pred_score=torch.eye(12)[i % 12], gt_label=torch.tensor([i % 12]))
        for i in range(6)
    ]
    with open(tmp_path / 'predictions.pkl', 'wb') as f:
        pickle.dump(predictions, f)
    args = [
        DEMO,
        str(tmp_path / 'predictions.pkl'), '--out',
        str(tmp_path / 'cm.pkl')
    ] + data_options(tiny_dataset.root)
    without = run_upstream(
        'analysis_tools/confusion_matrix.py', args, hook=False)
    assert without.returncode != 0 and DRN_ERROR in without.stdout
    result = run_upstream(
        'analysis_tools/confusion_matrix.py', args, venv=venvs[install])
    assert result.returncode == 0, result.stdout[-3000:]
    with open(tmp_path / 'cm.pkl', 'rb') as f:
        matrix = pickle.load(f)
    assert tuple(matrix.shape) == (12, 12) and int(matrix.trace()) == 6


@pytest.mark.slow
def test_reparameterize_tool_reads_our_config_and_checkpoint(venvs, tmp_path):
    model = MODELS.build(Config.fromfile(osp.join(REPO, DEMO)).model)
    checkpoint = tmp_path / 'demo.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    args = [DEMO, str(checkpoint), str(tmp_path / 'deploy.pth')]
    without = run_upstream('convert/reparameterize_model.py', args, hook=False)
    assert DRN_ERROR in without.stdout
    result = run_upstream(
        'convert/reparameterize_model.py', args, venv=venvs['editable'])
    assert DRN_ERROR not in result.stdout
    # the model loaded; ResNet has no re-parameterisable blocks, which the
    # tool itself reports
    assert 'switch_to_deploy' in result.stdout, result.stdout[-3000:]


@pytest.mark.slow
def test_check_videos_tool_accepts_our_config_and_finds_a_broken_video(
        venvs, tiny_dataset, tmp_path):
    root = tmp_path / 'data'
    shutil.copytree(tiny_dataset.root, root)
    with open(root / 'videos' / 'train' / 'broken.mp4', 'wb') as f:
        f.write(os.urandom(2048))
    with open(root / 'train_list_videos.txt', 'a') as f:
        f.write('train/broken.mp4 1\n')
    report = tmp_path / 'invalid.txt'
    result = run_upstream(
        'analysis_tools/check_videos.py', [
            DEMO, '--split', 'train', '--nproc', '1', '--output-file',
            str(report)
        ] + data_options(root) +
        ['train_dataloader.dataset.type=VideoDataset'],
        venv=venvs['editable'])
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'Checked 4 videos, 1 are corrupted/missing.' in result.stdout
    assert report.read_text().strip().endswith('broken.mp4')


def upstream_with_warnings(tool, args, disable=''):
    """``tool`` from the wheel with this environment's python and its
    start-up hook (the repository's), warnings as Python shows them."""
    env = dict(os.environ, PYTHONPATH=REPO, HMAN_COMPAT_DISABLE=disable)
    env.pop('PYTHONWARNINGS', None)
    return subprocess.run(
        [sys.executable, osp.join(TOOLS, tool)] + args,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors='replace',
        timeout=300)


PKG_RESOURCES_NOISE = 'pkg_resources is deprecated as an API'
MMCV_LITE_NOISE = 'You should install ``mmcv`` rather than ``mmcv-lite``'


def test_print_config_shows_no_pkg_resources_noise():
    args = [DEMO]
    shown = upstream_with_warnings(
        'analysis_tools/print_config.py', args, disable='pkg_resources')
    assert PKG_RESOURCES_NOISE in shown.stdout  # the noise is real
    result = upstream_with_warnings('analysis_tools/print_config.py', args)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'HMANHead' in result.stdout
    assert 'Warning' not in result.stdout, result.stdout[:3000]


def test_confusion_matrix_shows_no_mmcv_lite_noise(tiny_dataset, tmp_path):
    predictions = [
        dict(
            pred_score=torch.eye(12)[i % 12], gt_label=torch.tensor([i % 12]))
        for i in range(6)
    ]
    with open(tmp_path / 'predictions.pkl', 'wb') as f:
        pickle.dump(predictions, f)
    args = [
        DEMO,
        str(tmp_path / 'predictions.pkl'), '--out',
        str(tmp_path / 'cm.pkl')
    ] + data_options(tiny_dataset.root)
    tool = 'analysis_tools/confusion_matrix.py'
    shown = upstream_with_warnings(tool, args, disable='mmcv_lite_warning')
    assert MMCV_LITE_NOISE in shown.stdout  # the noise is real
    result = upstream_with_warnings(tool, args)
    assert result.returncode == 0, result.stdout[-3000:]
    assert MMCV_LITE_NOISE not in result.stdout
    assert PKG_RESOURCES_NOISE not in result.stdout
