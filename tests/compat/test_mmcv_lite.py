"""mmcv-lite's warning on every import (it tells users to install the full
mmcv, which has no wheel for the pinned torch): real without the patch,
gone with it, and nothing else silenced."""
import warnings

import pytest

from hman_mmaction.compat import mmcv_lite
from tests.helpers import run_python

IMPORT_MODELS = '''
import hman_mmaction
import mmaction.models
print('IMPORTED')
'''
WARNING = 'MultiScaleDeformableAttention'
SHOW_WARNINGS = {'PYTHONWARNINGS': 'default'}

needs_mmcv_lite = pytest.mark.skipif(
    not mmcv_lite.compiled_ops_missing(),
    reason='mmcv with compiled ops is installed: it does not warn')


@needs_mmcv_lite
def test_importing_mmaction_models_warns_without_the_patch():
    result = run_python(
        IMPORT_MODELS, disable=['mmcv_lite_warning'], env=SHOW_WARNINGS)
    assert result.returncode == 0, result.stderr
    assert WARNING in result.stderr


@needs_mmcv_lite
def test_the_plugin_silences_that_warning():
    result = run_python(IMPORT_MODELS, env=SHOW_WARNINGS)
    assert result.returncode == 0, result.stderr
    assert 'IMPORTED' in result.stdout
    assert WARNING not in result.stderr


def test_the_filter_ignores_only_that_message_from_that_module():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        mmcv_lite.ignore_deformable_attention_warning()
        module = 'mmcv.cnn.bricks.transformer'
        for message, mod in [
            ('Fail to import ``MultiScaleDeformableAttention`` from x',
             module),
            ('another warning', module),
            ('Fail to import ``MultiScaleDeformableAttention`` from x',
             'somewhere.else'),
        ]:
            warnings.warn_explicit(message, UserWarning, 'f.py', 1, module=mod)
    assert [str(w.message) for w in caught] == [
        'another warning',
        'Fail to import ``MultiScaleDeformableAttention`` from x'
    ]
