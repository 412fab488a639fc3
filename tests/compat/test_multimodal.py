"""mmaction2 1.2.0 imports its VindLU models whenever ``transformers`` is
installed; with a recent transformers (or no timm) ``import mmaction.models``
then fails. The breakage is real (first test) and the plugin absorbs it,
on ``import hman_mmaction`` and, for mmaction2's own tools that import
``mmaction.models`` before any config, in the import hook installed with
the package (``_hman_mmaction_imports.MultimodalGuard``)."""
import os
from importlib.util import find_spec

import pytest

from _hman_mmaction_imports import VINDLU_NEEDS
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


@pytest.mark.skipif(
    find_spec('transformers') is not None,
    reason='transformers is installed here: its metadata makes mmaction2 '
    'import VindLU even when the import is blocked')
def test_patch_is_off_without_transformers():
    result = run_python(IMPORT_MODELS, block=['transformers'])
    assert result.returncode == 0, result.stderr
    assert 'IMPORTED False off: transformers is not installed' in (
        result.stdout)


HOOK_ONLY = '''
import sys
import _hman_mmaction_imports as hook
hook.install()  # what hman_mmaction_imports.pth does at start-up
import mmaction.models
from mmaction.registry import MODELS
from mmaction.utils.dependency import WITH_MULTIMODAL
assert 'hman_mmaction' not in sys.modules
try:
    MODELS.build(dict(type='VindLUVQA'))
except ImportError as error:
    print('PLACEHOLDER', 'multi-modal' in str(error))
print('IMPORTED', WITH_MULTIMODAL)
'''


def test_the_import_hook_skips_them_before_the_plugin(recent_transformers):
    """mmaction2's own tools import ``mmaction.models`` before a config can
    import the plugin: the hook alone makes the import work, and building
    a VindLU model says what it needs."""
    result = run_python(HOOK_ONLY, env=recent_transformers)
    assert result.returncode == 0, result.stderr
    assert 'PLACEHOLDER True' in result.stdout
    assert 'IMPORTED False' in result.stdout


def test_the_import_hook_is_off_when_disabled(recent_transformers):
    result = run_python(
        HOOK_ONLY, disable=['multimodal'], env=recent_transformers)
    assert result.returncode != 0
    assert 'vindlu' in result.stderr


GUARD = '''
import importlib.util
import _hman_mmaction_imports as hook
guard = hook.MultimodalGuard()
path = importlib.util.find_spec('mmaction.utils').submodule_search_locations
print('OTHER', guard.find_spec('mmaction.models.recognizers', path))
spec = guard.find_spec(hook.DEPENDENCY, path)
print('GUARD', None if spec is None else type(spec.loader).__name__)
'''


def test_the_guard_answers_only_where_vindlu_cannot_import(
        recent_transformers, tmp_path):
    broken = run_python(GUARD, env=recent_transformers)
    assert 'OTHER None' in broken.stdout, broken.stderr
    assert 'GUARD _WithoutMultimodal' in broken.stdout
    # a transformers with VindLU's helpers, and timm: mmaction2's own path
    working = tmp_path / 'working'
    for name in ('transformers', 'timm'):
        (working / name).mkdir(parents=True)
        (working / name / '__init__.py').write_text('')
    (working / 'transformers' /
     'modeling_utils.py').write_text(''.join(f'def {helper}(): pass\n'
                                             for helper in VINDLU_NEEDS))
    fine = run_python(GUARD, env=dict(PYTHONPATH=str(working)))
    assert 'GUARD None' in fine.stdout, fine.stderr
    if find_spec('transformers') is None:  # CI: mmaction2's own path
        assert 'GUARD None' in run_python(GUARD).stdout
