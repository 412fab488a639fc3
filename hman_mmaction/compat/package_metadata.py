"""Package look-ups for mmengine without ``pkg_resources``.

mmengine 0.10.x resolves ``mmaction::`` config bases (and ``mmengine.hub``
look-ups) with ``pkg_resources``, which setuptools deprecates (a warning on
every import since 67.5, announced for removal after 80) and 82 no longer
ships (pypa/setuptools#5007). These
replacements answer the same three questions with ``importlib.metadata`` and
``importlib.util.find_spec`` and are patched into every mmengine module that
imported the originals by name. The patch is on for mmengine<0.11 where
:func:`pkg_resources_unusable` (``hman_mmaction.compat``).
"""
import importlib
import importlib.metadata
import importlib.util
import os.path as osp

from packaging.version import Version

from .ranges import installed_version

#: setuptools warns on ``import pkg_resources`` from this version on (a
#: DeprecationWarning, a UserWarning naming the removal since 80); 82 drops it
SETUPTOOLS_DEPRECATION = '67.5'

# (module, attribute) pairs that hold a reference to the original helpers.
PATCH_SITES = (
    ('mmengine.utils.package_utils', 'is_installed'),
    ('mmengine.utils.package_utils', 'get_installed_path'),
    ('mmengine.utils.package_utils', 'package2module'),
    ('mmengine.utils', 'is_installed'),
    ('mmengine.utils', 'get_installed_path'),
    ('mmengine.utils', 'package2module'),
    ('mmengine.config.config', 'is_installed'),
    ('mmengine.config.config', 'get_installed_path'),
    ('mmengine.hub.hub', 'get_installed_path'),
)


def package2module(package: str) -> str:
    """Top-level module of an installed distribution (``mmaction2`` ->
    ``mmaction``), read from its ``top_level.txt``."""
    dist = importlib.metadata.distribution(package)
    top_level = dist.read_text('top_level.txt')
    if top_level and top_level.split():
        return top_level.split()[0]
    raise ValueError(f'can not infer the module name of {package}: its '
                     'distribution has no top_level.txt')


def is_installed(package: str) -> bool:
    """Whether ``package`` is an installed distribution or importable."""
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def get_installed_path(package: str) -> str:
    """Folder of the top-level module that ``package`` installs."""
    try:
        module = package2module(package)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        module = package  # on PYTHONPATH only, or no top_level.txt
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise importlib.metadata.PackageNotFoundError(package)
    if spec.origin is None:
        raise RuntimeError(f'{package} is a namespace package, which is '
                           'invalid for `get_installed_path`')
    return osp.dirname(spec.origin)


def pkg_resources_unusable() -> bool:
    """True with setuptools>=67.5 (pkg_resources deprecated, then gone) or
    when ``pkg_resources`` cannot be found at all."""
    version = installed_version('setuptools')
    if version is None or Version(version) >= Version(SETUPTOOLS_DEPRECATION):
        return True
    try:
        return importlib.util.find_spec('pkg_resources') is None
    except ImportError:  # a finder that refuses it
        return True


REPLACEMENTS = dict(
    is_installed=is_installed,
    get_installed_path=get_installed_path,
    package2module=package2module)


def patch_mmengine_package_utils() -> int:
    """Swap the helpers in at every patch site; returns how many it set."""
    patched = 0
    for module_name, attribute in PATCH_SITES:
        module = importlib.import_module(module_name)
        if getattr(module, attribute, None) is not REPLACEMENTS[attribute]:
            setattr(module, attribute, REPLACEMENTS[attribute])
            patched += 1
    return patched
