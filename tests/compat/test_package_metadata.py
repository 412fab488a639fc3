"""mmengine resolves ``mmaction::`` config bases with pkg_resources, which
setuptools>=82 no longer ships: the plugin answers without it."""
import pytest

from hman_mmaction.compat import package_metadata
from tests.helpers import run_python

LOAD_CONFIG = '''
import hman_mmaction
from mmengine.config import Config
cfg = Config.fromfile('configs/_base_/models/hman_r50.py')
print('HEAD', cfg.model.cls_head.type, 'BACKBONE', cfg.model.backbone.type)
'''


def test_mmaction_base_fails_without_pkg_resources_and_no_fix():
    result = run_python(
        LOAD_CONFIG, disable=['pkg_resources'], block=['pkg_resources'])
    assert result.returncode != 0
    assert "No module named 'pkg_resources'" in result.stderr


def test_mmaction_base_resolves_without_pkg_resources_with_the_fix():
    result = run_python(LOAD_CONFIG, block=['pkg_resources'])
    assert result.returncode == 0, result.stderr
    assert 'HEAD HMANHead BACKBONE ResNet' in result.stdout


def test_replacements_find_mmaction2_like_mmengine_did():
    import os.path as osp

    import mmaction
    assert package_metadata.is_installed('mmaction2')
    assert not package_metadata.is_installed('surely-not-installed-pkg')
    assert package_metadata.package2module('mmaction2') == 'mmaction'
    assert package_metadata.get_installed_path('mmaction2') == osp.dirname(
        mmaction.__file__)


def test_missing_package_raises_package_not_found():
    from importlib.metadata import PackageNotFoundError
    with pytest.raises(PackageNotFoundError):
        package_metadata.get_installed_path('surely-not-installed-pkg')
