"""Allow-list exactly what mmengine checkpoints pickle, keep ``weights_only``.

Two patches (see ``docs/compatibility.md``), each on only in its range:

``checkpoint_globals`` (torch>=2.4, mmengine<0.11)
    Since torch 2.6 ``torch.load`` defaults to ``weights_only=True`` and
    refuses every global it does not know. An mmengine checkpoint stores the
    runner's ``MessageHub``, whose log scalars are ``HistoryBuffer`` objects
    holding numpy arrays, so resuming, ``load_from`` and testing a
    checkpoint fail (open-mmlab/mmengine#1655, mmengine 0.10.7). torch 2.4
    and 2.5 load weights-only where asked to (our loader below).
    :func:`allow_mmengine_checkpoints` only calls
    ``torch.serialization.add_safe_globals`` with the list below.

``weights_only_loader`` (torch>=2.4, mmengine<0.11)
    mmengine's loader for local files calls ``torch.load`` without
    ``weights_only``: before torch 2.6, or with
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` set, it unpickles arbitrary code.
    :func:`install_local_loader` registers :func:`load_local_checkpoint`
    for local paths only (mmengine's other schemes, http, s3 ..., are left
    alone); it passes ``weights_only=True`` explicitly and turns torch's
    refusal into an :class:`UntrustedCheckpointError` naming the file and
    the global. A user's explicit ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` is
    torch's documented opt-out and is respected: the file is then loaded
    as mmengine loads it (``torch.load`` without ``weights_only``), and
    torch's own warning says so, once.

The allow-list:

* ``mmengine.logging.history_buffer.HistoryBuffer`` (plain data + arrays);
* the numpy reconstruction globals for arrays, dtypes and scalars, under
  both module paths numpy 1.x (``numpy.core``) and 2.x (``numpy._core``) use;
* ``builtins.getattr`` *restricted* to the one use mmengine makes of it,
  ``getattr(HistoryBuffer, <statistic>)`` for its statistic methods. The
  real ``getattr`` is never allowed: it would reach arbitrary callables.

Anything else (``os.system``, ``subprocess.Popen``, ``eval`` ...) is still
refused by torch's weights-only unpickler.
"""
import os
import pickle
import re

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
    registered = torch.serialization.get_safe_globals()
    missing = [g for g in mmengine_checkpoint_globals() if g not in registered]
    if missing:
        torch.serialization.add_safe_globals(missing)
    return bool(missing)


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint pickles a global outside the allow-list; nothing in it
    was executed."""


_GLOBAL_IN_MESSAGE = re.compile(r'GLOBAL ([\w.]+)')


def untrusted_checkpoint_message(filename: str, error: Exception) -> str:
    """What was refused, where, and how to allow it if the file is trusted.

    torch's own message suggests ``weights_only=False``; the plugin never
    does that, so the advice is replaced by the allow-list route.
    """
    found = _GLOBAL_IN_MESSAGE.search(str(error))
    name = found.group(1) if found else 'unknown (see the cause below)'
    return (
        f'Refused to load checkpoint {filename!r}: it pickles the global '
        f'{name!r}, which is not on the allow-list of weights_only loading. '
        'Nothing from the file was executed: hman_mmaction loads every '
        'checkpoint with torch.load(weights_only=True) and never unpickles '
        'arbitrary code. If you trust this file and the global is plain '
        'data, allow-list it before loading, e.g. in a module listed in the '
        "config's custom_imports: torch.serialization.add_safe_globals("
        f'[<the object {name}>]). Cause: {error}')


OPT_OUT = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'


def weights_only_opted_out() -> bool:
    """True where the user set torch's documented opt-out
    (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``, the values torch accepts)."""
    return os.getenv(OPT_OUT, '0').lower() in ('1', 'y', 'yes', 'true')


def load_local_checkpoint(filename: str, map_location=None):
    """mmengine's loader for local paths, ``weights_only=True`` explicitly
    and a refusal that names the file and the global; with
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` set, mmengine's own call (torch
    then warns once that it loads with ``weights_only=False``)."""
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if weights_only_opted_out():  # the user's explicit choice: as upstream
        return torch.load(filename, map_location=map_location)
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except UntrustedCheckpointError:
        raise
    except pickle.UnpicklingError as error:
        if not _GLOBAL_IN_MESSAGE.search(str(error)):
            raise  # corrupt or truncated, not a refused global
        raise UntrustedCheckpointError(
            untrusted_checkpoint_message(filename, error)) from error


def install_local_loader() -> bool:
    """Route mmengine's local-path loading (resuming, ``load_from``,
    testing, ``init_recognizer``) through :func:`load_local_checkpoint`;
    returns True if it was not routed there yet."""
    from mmengine.runner.checkpoint import CheckpointLoader
    if CheckpointLoader._schemes.get('') is load_local_checkpoint:
        return False
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
    return True
