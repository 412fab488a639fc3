"""mmaction2 1.2.0's missing ``localizers/drn`` and undeclared
``importlib_metadata``: each breakage is real, and the plugin fixes it."""
import pytest

from hman_mmaction.compat.missing_modules import drn_is_missing
from tests.helpers import run_python

IMPORT_MODELS = '''
import hman_mmaction
import mmaction.models
print('IMPORTED', mmaction.models.Recognizer2D.__name__)
'''

needs_broken_wheel = pytest.mark.skipif(
    not drn_is_missing()
    and 'mmaction.models.localizers.drn' not in __import__('sys').modules,
    reason='this mmaction2 install ships localizers/drn')


@needs_broken_wheel
def test_mmaction_models_import_fails_without_the_drn_fix():
    result = run_python(IMPORT_MODELS, disable=['drn'])
    assert result.returncode != 0
    assert "No module named 'mmaction.models.localizers.drn'" in result.stderr


def test_mmaction_models_import_works_with_the_plugin():
    result = run_python(IMPORT_MODELS)
    assert result.returncode == 0, result.stderr
    assert 'IMPORTED' in result.stdout


@needs_broken_wheel
def test_building_drn_explains_what_is_missing():
    result = run_python('''
        import hman_mmaction
        from mmaction.registry import MODELS
        from mmaction.utils import register_all_modules
        register_all_modules()
        try:
            MODELS.build(dict(type='DRN'))
        except Exception as error:
            print('ERROR', error)
    ''')
    assert 'open-mmlab/mmaction2#2714' in result.stdout, result.stderr


def test_import_fails_without_importlib_metadata_and_no_fix():
    result = run_python(
        IMPORT_MODELS,
        disable=['importlib_metadata'],
        block=['importlib_metadata'])
    assert result.returncode != 0
    assert "No module named 'importlib_metadata'" in result.stderr


def test_import_works_without_importlib_metadata_with_the_fix():
    result = run_python(IMPORT_MODELS, block=['importlib_metadata'])
    assert result.returncode == 0, result.stderr
