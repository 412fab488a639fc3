"""Allow-list exactly what mmengine checkpoints pickle, keep ``weights_only``.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True`` and refuses
every global it does not know. An mmengine checkpoint stores the runner's
``MessageHub``, whose log scalars are ``HistoryBuffer`` objects holding numpy
arrays, so ``--resume``, ``load_from`` and ``tools/test.py CKPT`` fail.

We add to torch's allow-list:

* ``mmengine.logging.history_buffer.HistoryBuffer`` (plain data + arrays);
* the numpy reconstruction globals for arrays, dtypes and scalars, under
  both module paths numpy 1.x (``numpy.core``) and 2.x (``numpy._core``) use;
* ``builtins.getattr`` *restricted* to the one use mmengine makes of it,
  ``getattr(HistoryBuffer, <statistic>)`` for its statistic methods. The
  real ``getattr`` is never allowed: it would reach arbitrary callables.

Anything else (``os.system``, ``subprocess.Popen``, ``eval`` ...) is still
refused by torch's weights-only unpickler.
"""
import pickle

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

HISTORY_BUFFER_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


def history_buffer_statistic(obj, name):
    """``getattr`` that only returns ``HistoryBuffer``'s statistic methods."""
    if obj is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Refused getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'only HistoryBuffer statistic methods are allowed '
        '(hman_mmaction.compat.checkpoint_globals).')


def _numpy_core_globals():
    """The array, dtype and scalar globals, under numpy 1.x and 2.x paths."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    entries = []
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        entries.append((multiarray._reconstruct, f'{module}._reconstruct'))
        entries.append((multiarray.scalar, f'{module}.scalar'))
    entries += [np.ndarray, np.dtype]
    # numpy >= 1.25 pickles some dtypes through their classes in numpy.dtypes
    dtype_classes = getattr(np, 'dtypes', None)
    if dtype_classes is not None:
        entries += [
            getattr(dtype_classes, name) for name in dir(dtype_classes)
            if name.endswith('DType')
        ]
    return entries


def mmengine_checkpoint_globals():
    """Everything :func:`allow_mmengine_checkpoints` registers."""
    return [HistoryBuffer, (history_buffer_statistic, 'builtins.getattr')
            ] + _numpy_core_globals()


def allow_mmengine_checkpoints() -> bool:
    """Register the allow-list with torch; returns True if it added any."""
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return False  # torch < 2.4 loads these without an allow-list
    registered = torch.serialization.get_safe_globals()
    missing = [g for g in mmengine_checkpoint_globals() if g not in registered]
    if missing:
        torch.serialization.add_safe_globals(missing)
    return bool(missing)
