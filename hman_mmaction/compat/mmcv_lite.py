"""mmcv-lite's misleading import warning.

The plugin installs ``mmcv-lite`` on purpose: the full ``mmcv`` has no wheel
for the pinned torch and compiles for a long time, and recognizers need none
of its compiled ops. ``mmcv/cnn/bricks/transformer.py`` nevertheless warns on
every import of ``mmaction.models``::

    UserWarning: Fail to import ``MultiScaleDeformableAttention`` from
    ``mmcv.ops.multi_scale_deform_attn``, You should install ``mmcv`` rather
    than ``mmcv-lite`` if you need this module.

which tells every user to install what does not build. This patch ignores
exactly that warning (its message and its module); any other warning, and
this one from any other module, is shown as before.
"""
import importlib.util
import warnings

MESSAGE = r'Fail to import ``MultiScaleDeformableAttention``'
MODULE = r'mmcv\.cnn\.bricks\.transformer'


def compiled_ops_missing() -> bool:
    """True where mmcv's compiled ops (``mmcv._ext``) are absent, as in
    mmcv-lite: the warning fires there."""
    try:
        return importlib.util.find_spec('mmcv._ext') is None
    except (ImportError, ValueError):
        return True


def ignore_deformable_attention_warning() -> None:
    """``warnings.filterwarnings('ignore', MESSAGE, UserWarning, MODULE)``
    (idempotent: ``filterwarnings`` drops an identical earlier entry)."""
    warnings.filterwarnings(
        'ignore', message=MESSAGE, category=UserWarning, module=MODULE)
