"""Modules that the pinned upstream wheels import but do not ship.

* ``mmaction2==1.2.0`` lists ``from .drn.drn import DRN`` in
  ``mmaction/models/localizers/__init__.py`` but its wheel lacks the ``drn``
  folder (open-mmlab/mmaction2#2714), so ``import mmaction.models`` fails.
  We put a placeholder module in its place and register a ``DRN`` that
  explains the gap when somebody builds it; every other model imports
  normally.
* ``mmaction.utils.dependency`` imports ``importlib_metadata`` without
  declaring it. The two names it uses (``distribution`` and
  ``PackageNotFoundError``) are in the standard library's
  ``importlib.metadata``, which we alias when the backport is absent.

Both fixes act only when the module really is missing.
"""
import importlib.metadata
import importlib.util
import os.path as osp
import sys
import types

import _hman_mmaction_imports as _hook

# the check and the bound are the import hook's (installed with the package)
multimodal_unimportable = _hook.multimodal_unimportable
MULTIMODAL_FIXED_IN = _hook.MULTIMODAL_FIXED_IN

DRN_MODULE = 'mmaction.models.localizers.drn'
DRN_MISSING_MESSAGE = (
    'DRN is not available: the mmaction2 1.2.0 wheel does not ship '
    '`mmaction/models/localizers/drn` (open-mmlab/mmaction2#2714). '
    'To use DRN, install mmaction2 from source: '
    '`pip install git+https://github.com/open-mmlab/mmaction2.git`.')


def _mmaction_root():
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.origin is None:
        return None
    return osp.dirname(spec.origin)


def drn_is_missing() -> bool:
    """True when mmaction2 is installed without its ``localizers/drn``."""
    root = _mmaction_root()
    if root is None or DRN_MODULE in sys.modules:
        return False
    return not osp.isdir(osp.join(root, 'models', 'localizers', 'drn'))


class _MissingDRN:
    """Stands in for ``mmaction.models.localizers.drn.drn.DRN``."""

    def __init__(self, *args, **kwargs):
        raise ImportError(DRN_MISSING_MESSAGE)


def install_drn_placeholder() -> bool:
    """Register placeholder ``drn`` modules; returns True if it did."""
    if not drn_is_missing():
        return False
    package = types.ModuleType(DRN_MODULE)
    package.__path__ = []  # a package, so ``drn.drn`` resolves below it
    package.__doc__ = DRN_MISSING_MESSAGE
    module = types.ModuleType(DRN_MODULE + '.drn')
    module.__doc__ = DRN_MISSING_MESSAGE
    module.DRN = _MissingDRN
    package.drn = module
    sys.modules[DRN_MODULE] = package
    sys.modules[DRN_MODULE + '.drn'] = module
    # building `type='DRN'` from a config then explains the gap
    from mmaction.registry import MODELS
    MODELS.register_module(name='DRN', module=_MissingDRN, force=True)
    return True


def alias_importlib_metadata() -> bool:
    """Alias ``importlib_metadata`` to the stdlib; returns True if it did."""
    try:
        import importlib_metadata  # noqa: F401
        return False
    except ImportError:
        sys.modules['importlib_metadata'] = importlib.metadata
        return True


def skip_broken_multimodal() -> bool:
    """Make mmaction2 register its placeholders for the VindLU models (as
    without ``transformers``) instead of importing them: building one then
    says what it needs, and every other model imports."""
    import mmaction.utils.dependency as dependency
    if not dependency.WITH_MULTIMODAL:
        return False
    dependency.WITH_MULTIMODAL = False
    return True
