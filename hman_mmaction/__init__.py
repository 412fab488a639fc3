"""HM-AN (Hierarchical Multi-scale Attention Network) for mmaction2.

Importing the package first applies the fixes for the pinned upstream stack
(:mod:`hman_mmaction.compat`), then registers every component in mmaction2's
registries, so configs only need::

    custom_imports = dict(imports=['hman_mmaction'],
                          allow_failed_imports=False)
"""
from .compat import apply_all as _apply_compat_fixes

COMPAT_FIXES = _apply_compat_fixes()

# after the fixes: these import mmaction.models (isort keeps this order)
# isort: off
from . import engine, models  # noqa: E402,F401  (registers components)
from . import datasets, evaluation  # noqa: E402,F401  (registers components)
from . import features  # noqa: E402,F401  (feature cache dataset/model)
from .version import __version__  # noqa: E402
# isort: on

__all__ = ['COMPAT_FIXES', '__version__']
