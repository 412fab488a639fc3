"""Fixes for the upstream breakages of the pinned stack, applied once.

``import hman_mmaction`` calls :func:`apply_all` before it imports anything
from ``mmaction.models``. Each fix is narrow, idempotent and does nothing
where the breakage is absent:

==========================  ==================================================
``drn``                     mmaction2 1.2.0 wheel lacks ``localizers/drn``
                            (``missing_modules``)
``importlib_metadata``      undeclared ``importlib_metadata``
                            (``missing_modules``)
``pkg_resources``           mmengine config bases need ``pkg_resources``
                            (``package_metadata``)
``checkpoint_globals``      torch>=2.6 ``weights_only`` refuses mmengine
                            checkpoints (allow-list, never ``weights_only``
                            off)
``cpu_launcher``            mmengine's pytorch launcher needs CUDA
                            (``cpu_distributed``)
``strict_inference``        ``init_recognizer`` loads any checkpoint with a
                            random rest (``strict_inference``)
==========================  ==================================================

Set ``HMAN_COMPAT_DISABLE=name[,name...]`` to skip fixes (tests use it to
show each breakage is real).
"""
import os

from . import (checkpoint_globals, cpu_distributed, missing_modules,
               package_metadata, strict_inference)

FIXES = {
    'drn': missing_modules.install_drn_placeholder,
    'importlib_metadata': missing_modules.alias_importlib_metadata,
    'pkg_resources': package_metadata.patch_mmengine_package_utils,
    'checkpoint_globals': checkpoint_globals.allow_mmengine_checkpoints,
    'cpu_launcher': cpu_distributed.patch_pytorch_launcher,
    # last: imports mmaction.apis, so after the missing-module fixes
    'strict_inference': strict_inference.make_init_recognizer_strict,
}


def disabled_fixes():
    names = os.environ.get('HMAN_COMPAT_DISABLE', '')
    return {n.strip() for n in names.split(',') if n.strip()}


def apply_all() -> dict:
    """Apply every fix not disabled; returns ``{name: result}``."""
    skip = disabled_fixes()
    unknown = skip - set(FIXES)
    if unknown:
        raise ValueError(f'HMAN_COMPAT_DISABLE names unknown fixes '
                         f'{sorted(unknown)}; known: {sorted(FIXES)}')
    return {name: fix() for name, fix in FIXES.items() if name not in skip}
