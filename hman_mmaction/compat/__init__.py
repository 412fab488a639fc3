"""Fixes for the upstream breakages of the pinned stack, applied once.

``import hman_mmaction`` calls :func:`apply_all` before it imports anything
from ``mmaction.models``. Each patch states the upstream versions it fixes
(:data:`PATCHES`) and is off outside them, and off where the breakage is
absent; ``docs/compatibility.md`` describes each one.

==========================  ==================================================
``drn``                     mmaction2==1.2.0: the wheel lacks
                            ``localizers/drn`` (``missing_modules``)
``importlib_metadata``      mmaction2<1.3: undeclared ``importlib_metadata``
                            (``missing_modules``)
``multimodal``              mmaction2<1.3 with transformers>=4.28 but no
                            ``timm`` or a transformers without the helpers
                            VindLU imports: ``import mmaction.models``
                            fails (``missing_modules``)
``mmcv_lite_warning``       mmcv-lite 2.0-2.2 without compiled ops: a warning
                            on every import tells users to install the full
                            mmcv (``mmcv_lite``)
``pkg_resources``           mmengine<0.11 with setuptools>=67.5 (deprecated)
                            or without ``pkg_resources``: config bases need
                            it (``package_metadata``)
``checkpoint_globals``      torch>=2.4, mmengine<0.11: weights-only loading
                            refuses mmengine checkpoints (allow-list)
``weights_only_loader``     torch>=2.4, mmengine<0.11: mmengine loads local
                            checkpoints without ``weights_only``
``cpu_launcher``            mmengine<0.11 without CUDA: the pytorch launcher
                            needs CUDA (``cpu_distributed``)
==========================  ==================================================

Set ``HMAN_COMPAT_DISABLE=name[,name...]`` to skip patches (tests use it to
show each breakage is real); :func:`patch_status` says which are on and why.
"""
import os
from typing import Callable, Dict, NamedTuple, Optional

from . import (checkpoint_globals, cpu_distributed, missing_modules, mmcv_lite,
               package_metadata)
from .ranges import out_of_range


class Patch(NamedTuple):
    """A compatibility patch: ``apply()`` does it (idempotent), ``requires``
    maps each distribution to the version range that has the breakage,
    ``needed()`` (optional) checks the breakage is present at all."""
    apply: Callable[[], object]
    requires: Dict[str, str]
    upstream: str
    needed: Optional[Callable[[], bool]] = None


def _without_cuda() -> bool:
    import torch
    return not torch.cuda.is_available()


PATCHES = {
    'drn':
    Patch(missing_modules.install_drn_placeholder, {'mmaction2': '==1.2.0'},
          'open-mmlab/mmaction2#2714', missing_modules.drn_is_missing),
    'importlib_metadata':
    Patch(missing_modules.alias_importlib_metadata, {'mmaction2': '<1.3.0'},
          'mmaction/utils/dependency.py imports the undeclared backport'),
    'multimodal':
    Patch(
        missing_modules.skip_broken_multimodal, {
            'mmaction2': f'<{missing_modules.MULTIMODAL_FIXED_IN}',
            'transformers': '>=4.28.0'
        },
        'mmaction/models/multimodal/vindlu imports timm and old transformers '
        'helpers', missing_modules.multimodal_unimportable),
    'mmcv_lite_warning':
    Patch(mmcv_lite.ignore_deformable_attention_warning,
          {'mmcv-lite': '>=2.0.0,<2.3.0'},
          'mmcv/cnn/bricks/transformer.py warns when mmcv.ops is absent',
          mmcv_lite.compiled_ops_missing),
    'pkg_resources':
    Patch(package_metadata.patch_mmengine_package_utils,
          {'mmengine': '<0.11.0'}, 'pypa/setuptools#5007',
          package_metadata.pkg_resources_unusable),
    'checkpoint_globals':
    Patch(checkpoint_globals.allow_mmengine_checkpoints, {
        'torch': '>=2.4',
        'mmengine': '<0.11.0'
    }, 'open-mmlab/mmengine#1655'),
    'weights_only_loader':
    Patch(checkpoint_globals.install_local_loader, {
        'torch': '>=2.4',
        'mmengine': '<0.11.0'
    }, 'mmengine load_from_local: torch.load without weights_only'),
    'cpu_launcher':
    Patch(cpu_distributed.patch_pytorch_launcher, {'mmengine': '<0.11.0'},
          'mmengine _init_dist_pytorch calls torch.cuda.set_device',
          _without_cuda),
}
#: the former name of the table, ``{name: apply}``
FIXES = {name: patch.apply for name, patch in PATCHES.items()}
_APPLIED = set()


def disabled_fixes():
    names = os.environ.get('HMAN_COMPAT_DISABLE', '')
    return {n.strip() for n in names.split(',') if n.strip()}


def off_reason(name: str) -> Optional[str]:
    """Why patch ``name`` is off here (disabled, versions out of its range,
    breakage absent), or None if it applies."""
    if name in disabled_fixes():
        return 'disabled by HMAN_COMPAT_DISABLE'
    patch = PATCHES[name]
    reason = out_of_range(patch.requires)
    if reason is not None:
        return reason
    if patch.needed is not None and not patch.needed():
        return 'the breakage is absent'
    return None


def patch_status() -> Dict[str, str]:
    """``{name: 'on' | 'off: <reason>'}`` for every patch (``on``: applied
    by :func:`apply_all`, or would be)."""
    status = {}
    for name in PATCHES:
        reason = None if name in _APPLIED else off_reason(name)
        status[name] = 'on' if reason is None else f'off: {reason}'
    return status


def apply_all() -> dict:
    """Apply every patch that is on (:func:`off_reason`); returns
    ``{name: result}`` of those applied."""
    unknown = disabled_fixes() - set(PATCHES)
    if unknown:
        raise ValueError(f'HMAN_COMPAT_DISABLE names unknown fixes '
                         f'{sorted(unknown)}; known: {sorted(PATCHES)}')
    results = {}
    for name, patch in PATCHES.items():
        if off_reason(name) is None:
            results[name] = patch.apply()
            _APPLIED.add(name)
    return results
