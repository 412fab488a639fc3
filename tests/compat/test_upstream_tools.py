"""mmaction2's own tools, run unchanged from the wheel, work with our configs
(issue 14, item 5).

``confusion_matrix.py`` and ``reparameterize_model.py`` import
``mmaction.models`` before they read a config; the import hook installed
with the package (``hman_mmaction_imports.pth`` + ``_hman_mmaction_imports``)
provides the module the wheel lacks. ``check_videos.py`` insists on the
dataset type ``VideoDataset``, which our configs keep (the checked dataset
is registered under that name)."""
import os
import os.path as osp
import pickle
import shutil
import subprocess
import sys
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


@pytest.fixture(scope='module')
def site_dir(tmp_path_factory):
    """A site directory holding the repository's .pth, as pip installs it."""
    folder = tmp_path_factory.mktemp('site')
    shutil.copy(osp.join(REPO, PTH), folder / PTH)
    return str(folder)


@pytest.fixture(scope='module')
def tiny_dataset(tmp_path_factory):
    return make_tiny_dataset(
        tmp_path_factory.mktemp('synthetic_actions'), train=3, val=2, test=2)


def run_upstream(tool, args, site=None, cwd=REPO):
    """``python <wheel>/tools/<tool> args`` in a fresh interpreter whose
    site directories include ``site`` (the installed .pth), if given."""
    code = ('import runpy, site, sys\n'
            f'{"site.addsitedir(%r)" % site if site else ""}\n'
            f'sys.argv = {[tool] + list(args)!r}\n'
            f'runpy.run_path({osp.join(TOOLS, tool)!r}, run_name="__main__")')
    env = dict(os.environ, PYTHONPATH=REPO, PYTHONWARNINGS='ignore')
    env.pop('HMAN_COMPAT_DISABLE', None)
    return subprocess.run([sys.executable, '-c', code],
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


def test_confusion_matrix_tool_runs_with_our_config(site_dir, tiny_dataset,
                                                    tmp_path):
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
    without = run_upstream('analysis_tools/confusion_matrix.py', args)
    assert without.returncode != 0 and DRN_ERROR in without.stdout
    result = run_upstream(
        'analysis_tools/confusion_matrix.py', args, site=site_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    with open(tmp_path / 'cm.pkl', 'rb') as f:
        matrix = pickle.load(f)
    assert tuple(matrix.shape) == (12, 12) and int(matrix.trace()) == 6


def test_reparameterize_tool_reads_our_config_and_checkpoint(
        site_dir, tmp_path):
    model = MODELS.build(Config.fromfile(osp.join(REPO, DEMO)).model)
    checkpoint = tmp_path / 'demo.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    args = [DEMO, str(checkpoint), str(tmp_path / 'deploy.pth')]
    without = run_upstream('convert/reparameterize_model.py', args)
    assert DRN_ERROR in without.stdout
    result = run_upstream(
        'convert/reparameterize_model.py', args, site=site_dir)
    assert DRN_ERROR not in result.stdout
    # the model loaded; ResNet has no re-parameterisable blocks, which the
    # tool itself reports
    assert 'switch_to_deploy' in result.stdout, result.stdout[-3000:]


def test_check_videos_tool_accepts_our_config_and_finds_a_broken_video(
        site_dir, tiny_dataset, tmp_path):
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
        ] + data_options(root),
        site=site_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'Checked 4 videos, 1 are corrupted/missing.' in result.stdout
    assert report.read_text().strip().endswith('broken.mp4')
