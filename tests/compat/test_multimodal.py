"""mmaction2 1.2.0 imports its VindLU models whenever ``transformers`` is
installed; with a recent transformers (or no timm) ``import mmaction.models``
then fails. The breakage is real (first test) and the plugin absorbs it."""
import os

import pytest

from tests.helpers import run_python

IMPORT_MODELS = '''
import hman_mmaction
import mmaction.models
from mmaction.utils.dependency import WITH_MULTIMODAL
from hman_mmaction.compat import patch_status
print('IMPORTED', WITH_MULTIMODAL, patch_status()['multimodal'])
'''


@pytest.fixture
def recent_transformers(tmp_path):
    """A stand-in ``transformers`` 5.0.0 whose modeling_utils lacks the
    helpers VindLU imports (as in transformers 4.57 and 5.x)."""
    package = tmp_path / 'transformers'
    package.mkdir()
    (package / '__init__.py').write_text('__version__ = "5.0.0"\n')
    (package / 'modeling_utils.py').write_text('class PreTrainedModel:\n'
                                               '    pass\n')
    info = tmp_path / 'transformers-5.0.0.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: transformers\nVersion: 5.0.0\n')
    path = os.pathsep.join([str(tmp_path)] +
                           [p for p in [os.environ.get('PYTHONPATH')] if p])
    return dict(PYTHONPATH=path)


def test_mmaction_models_import_fails_with_recent_transformers_unpatched(
        recent_transformers):
    result = run_python(
        IMPORT_MODELS, disable=['multimodal'], env=recent_transformers)
    assert result.returncode != 0
    assert 'vindlu' in result.stderr


def test_plugin_skips_the_broken_multimodal_models(recent_transformers):
    result = run_python(IMPORT_MODELS, env=recent_transformers)
    assert result.returncode == 0, result.stderr
    assert 'IMPORTED False on' in result.stdout


def test_patch_is_off_without_transformers():
    result = run_python(IMPORT_MODELS, block=['transformers'])
    assert result.returncode == 0, result.stderr
    assert 'IMPORTED False off: transformers is not installed' in (
        result.stdout)
