"""Import hook for mmaction2 modules that the pinned wheel lacks.

mmaction2 1.2.0's wheel imports ``mmaction.models.localizers.drn`` without
shipping it (open-mmlab/mmaction2#2714), and ``importlib_metadata`` without
declaring it. ``import hman_mmaction`` fixes both
(:mod:`hman_mmaction.compat.missing_modules`), but mmaction2's own tools
``analysis_tools/confusion_matrix.py`` and ``convert/reparameterize_model.py``
import ``mmaction.models`` before they read a config, so the plugin comes
too late. This module is therefore installed with the package together with
``hman_mmaction_imports.pth``, whose one line runs :func:`install` at
interpreter start-up.

Scope, kept narrow on purpose:

* only three module names are ever answered with a stand-in:
  ``mmaction.models.localizers.drn``, ``...drn.drn`` (placeholders) and
  ``importlib_metadata`` (the standard library's ``importlib.metadata``,
  which has the two names mmaction2 uses);
* the finder is appended to ``sys.meta_path``, so it is asked only after
  every regular finder failed: a wheel or a source install that ships
  ``drn`` always wins;
* start-up cost: this file uses the standard library only and imports
  nothing of mmaction, torch or the plugin until the module is asked for.

The placeholder ``DRN`` raises an ``ImportError`` that explains the gap when
somebody builds it; every other model imports normally.

Recent ``transformers`` (4.57, 5.x; GPU images ship it) no longer has the
helpers that mmaction2 1.2.0's VindLU models import, and mmaction2 imports
them whenever ``transformers>=4.28`` is installed, so ``import
mmaction.models`` fails. Only then (:func:`multimodal_unimportable`, read
from the files), :class:`MultimodalGuard` hands out the real
``mmaction.utils.dependency`` with ``WITH_MULTIMODAL = False``: mmaction2
registers its VindLU placeholders, as without ``transformers``, and every
other model imports. It is the one finder put first on ``sys.meta_path``
(to wrap the module before it runs), and it answers for that one name.

Noise on mmaction2's own tools, which import mmaction2 and mmengine before
any config (so before the plugin): :func:`silence_noise` ignores exactly
two warnings the plugin knows to be noise, each by its message and the
module that raises it (:data:`NOISE`; appended, so ``-W`` /
``PYTHONWARNINGS`` still win): mmcv-lite's advice to install the full
``mmcv`` (``analysis_tools/confusion_matrix.py``) and setuptools'
``pkg_resources`` deprecation that mmengine's ``mmaction::`` config look-up
triggers (``analysis_tools/print_config.py``). ``HMAN_COMPAT_DISABLE`` with
the patch's name (``mmcv_lite_warning``, ``pkg_resources``) shows it again.
"""
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import warnings

DRN_PACKAGE = 'mmaction.models.localizers.drn'
DRN_MODULE = DRN_PACKAGE + '.drn'
METADATA_BACKPORT = 'importlib_metadata'
PROVIDED = (DRN_PACKAGE, DRN_MODULE, METADATA_BACKPORT)
DEPENDENCY = 'mmaction.utils.dependency'  # decides WITH_MULTIMODAL
#: what ``mmaction/models/multimodal/vindlu`` imports from its extras
VINDLU_NEEDS = ('apply_chunking_to_forward',
                'find_pruneable_heads_and_indices', 'prune_linear_layer')
MULTIMODAL_FIXED_IN = '1.3.0'  # mmaction2 versions before it import VindLU
DRN_MISSING_MESSAGE = (
    'DRN is not available: the mmaction2 1.2.0 wheel does not ship '
    '`mmaction/models/localizers/drn` (open-mmlab/mmaction2#2714). '
    'To use DRN, install mmaction2 from source: '
    '`pip install git+https://github.com/open-mmlab/mmaction2.git`.')


class MissingDRN:
    """Stands in for ``mmaction.models.localizers.drn.drn.DRN``."""

    def __init__(self, *args, **kwargs):
        raise ImportError(DRN_MISSING_MESSAGE)


class _StdlibMetadataLoader(importlib.abc.Loader):

    def create_module(self, spec):
        import importlib.metadata
        return importlib.metadata

    def exec_module(self, module):
        pass


class _PlaceholderLoader(importlib.abc.Loader):

    def create_module(self, spec):
        return None  # default module creation

    def exec_module(self, module):
        module.__doc__ = DRN_MISSING_MESSAGE
        if module.__name__ == DRN_MODULE:
            module.DRN = MissingDRN
            from mmaction.registry import MODELS
            MODELS.register_module(name='DRN', module=MissingDRN, force=True)


#: (compat patch name, exact message, module that warns) of each noise
NOISE = (
    ('mmcv_lite_warning',
     r'Fail to import ``MultiScaleDeformableAttention`` from '
     r'``mmcv\.ops\.multi_scale_deform_attn``, You should install ``mmcv`` '
     r'rather than ``mmcv-lite``', r'mmcv\.cnn\.bricks\.transformer$'),
    # mmengine imports pkg_resources, then reloads it (importlib.reload)
    ('pkg_resources', r'pkg_resources is deprecated as an API\. ',
     r'(mmengine\.utils\.package_utils|importlib)$'),
)


def silence_noise() -> None:
    """Ignore the warnings of :data:`NOISE` (module doc)."""
    for name, message, module in NOISE:
        if name not in _disabled():
            warnings.filterwarnings(
                'ignore', message, UserWarning, module, append=True)


def _disabled() -> set:
    """The names switched off with ``HMAN_COMPAT_DISABLE`` (as for the
    plugin's own patches: ``drn``, ``importlib_metadata``)."""
    names = os.environ.get('HMAN_COMPAT_DISABLE', '')
    return {name.strip() for name in names.split(',') if name.strip()}


class MissingModuleFinder(importlib.abc.MetaPathFinder):
    """Answers only for :data:`PROVIDED`, and only as the last resort;
    nothing for the fixes that ``HMAN_COMPAT_DISABLE`` switches off."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in PROVIDED:
            return None
        fix = 'importlib_metadata' if fullname == METADATA_BACKPORT else 'drn'
        if fix in _disabled():
            return None
        if fullname == METADATA_BACKPORT:
            return importlib.machinery.ModuleSpec(fullname,
                                                  _StdlibMetadataLoader())
        spec = importlib.machinery.ModuleSpec(
            fullname, _PlaceholderLoader(), is_package=fullname == DRN_PACKAGE)
        if fullname == DRN_PACKAGE:
            spec.submodule_search_locations = []
        return spec


def multimodal_unimportable() -> bool:
    """True when mmaction2 would import its VindLU models (``transformers``
    is installed) but they cannot import here: ``timm`` is missing, or
    ``transformers.modeling_utils`` no longer has the helpers VindLU takes
    from it (removed in recent transformers). Read from the files, without
    importing transformers; one whose look-up fails cannot import
    either (True)."""
    try:
        spec = importlib.util.find_spec('transformers')
        if spec is None or spec.origin is None:
            return False
        if importlib.util.find_spec('timm') is None:
            return True
    except (ImportError, ValueError):
        return True
    path = os.path.join(os.path.dirname(spec.origin), 'modeling_utils.py')
    try:
        with open(path, encoding='utf-8') as f:
            source = f.read()
    except OSError:
        return True
    return not all(name in source for name in VINDLU_NEEDS)


def _release(version: str):
    """``(major, minor, patch)`` of a version string."""
    numbers = [int(n) for n in re.findall(r'\d+', version)[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))


def _installed_release(distribution: str):
    """:func:`_release` of an installed distribution, or None."""
    import importlib.metadata  # here: it is slow to import at start-up
    try:
        return _release(importlib.metadata.version(distribution))
    except importlib.metadata.PackageNotFoundError:
        return None


class _WithoutMultimodal(importlib.abc.Loader):
    """Runs the real module, then turns its ``WITH_MULTIMODAL`` off."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        module.WITH_MULTIMODAL = False


class MultimodalGuard(importlib.abc.MetaPathFinder):
    """Answers only for :data:`DEPENDENCY`, and only where VindLU cannot
    import (module doc; not with ``HMAN_COMPAT_DISABLE=multimodal``): the
    real module, found by the regular path finder, run by
    :class:`_WithoutMultimodal`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != DEPENDENCY or 'multimodal' in _disabled():
            return None
        release = _installed_release('mmaction2')
        if (release is None or release >= _release(MULTIMODAL_FIXED_IN)
                or not multimodal_unimportable()):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _WithoutMultimodal(spec.loader)
        return spec


def install() -> bool:
    """Append the finder to ``sys.meta_path`` once, put the multimodal
    guard first, and silence the noise (:func:`silence_noise`); True if
    the finder was new."""
    silence_noise()
    if not any(isinstance(f, MultimodalGuard) for f in sys.meta_path):
        sys.meta_path.insert(0, MultimodalGuard())
    if any(isinstance(f, MissingModuleFinder) for f in sys.meta_path):
        return False
    sys.meta_path.append(MissingModuleFinder())
    return True
