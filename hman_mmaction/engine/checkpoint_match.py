"""Does a checkpoint fill the model it is loaded into?

mmengine loads checkpoints with ``strict=False`` and only prints the keys it
could not match, buried in the config dump. Loading a TSN checkpoint into
the HM-AN config (or the reverse) therefore tests a randomly initialised
head and prints an accuracy that means nothing. :func:`checkpoint_mismatch`
lists what the checkpoint leaves unfilled:

* ``missing``: model keys the checkpoint lacks;
* ``mismatched``: keys of both with different shapes (``load_state_dict``
  skips them, the model keeps its random values);
* ``unexpected``: checkpoint keys the model has no place for.

Used by :class:`~hman_mmaction.engine.run_checks_hook.RunChecksHook`
(testing and validation refuse an incomplete checkpoint before its weights
are loaded, ``--resume`` one of another run). The head itself refuses to
score with weights a load did not fill, whatever loaded them
(:mod:`hman_mmaction.models.checkpoint_guard`).
"""
import re
from typing import List, NamedTuple, Sequence, Tuple

import torch.nn as nn
from mmengine.model import is_model_wrapper

from ..models.checkpoint_guard import (BUFFER, CheckpointMismatchError,
                                       size_report)
from ..models.checkpoint_keys import upgrade_head_keys

SHOWN = 8  # keys named per kind in a message; the count is always given
DEFAULT_REVISE_KEYS = [(r'^module\.', '')]


class Mismatch(NamedTuple):
    missing: List[str]
    mismatched: List[Tuple[str, tuple, tuple]]  # key, model, checkpoint
    unexpected: List[str]

    def __bool__(self) -> bool:
        return bool(self.missing or self.mismatched)


def _state_dict(checkpoint) -> dict:
    if isinstance(checkpoint, dict) and 'state_dict' in checkpoint:
        return checkpoint['state_dict']
    return checkpoint


def checkpoint_mismatch(model: nn.Module,
                        checkpoint,
                        revise_keys: Sequence = DEFAULT_REVISE_KEYS
                        ) -> Mismatch:
    """What ``checkpoint`` (a loaded dict) leaves unfilled in ``model``."""
    if is_model_wrapper(model):
        model = model.module
    loaded = {}
    for key, value in _state_dict(checkpoint).items():
        for pattern, replacement in revise_keys:
            key = re.sub(pattern, replacement, key)
        loaded[key] = value
    if hasattr(getattr(model, 'cls_head', None), BUFFER):  # an HM-AN head
        upgrade_head_keys(loaded, 'cls_head.')  # the names it loads with
    expected = model.state_dict()
    missing = [k for k in expected if k not in loaded]
    mismatched = [(k, tuple(v.shape), tuple(loaded[k].shape))
                  for k, v in expected.items()
                  if k in loaded and hasattr(loaded[k], 'shape')
                  and tuple(loaded[k].shape) != tuple(v.shape)]
    unexpected = [k for k in loaded if k not in expected]
    return Mismatch(missing, mismatched, unexpected)


def _listing(title: str, items: list) -> str:
    if not items:
        return ''
    shown = ', '.join(str(i) for i in items[:SHOWN])
    more = f' ... and {len(items) - SHOWN} more' if len(items) > SHOWN else ''
    return f'\n  {title} ({len(items)}): {shown}{more}'


def describe(mismatch: Mismatch, filename: str, model: nn.Module) -> str:
    """One message naming the unfilled and the unexpected keys."""
    if is_model_wrapper(model):
        model = model.module
    unfilled = mismatch.missing + [k for k, _, _ in mismatch.mismatched]
    parts = sorted({k.split('.')[0] for k in unfilled})
    mismatched = [
        f'{k} (model {list(m)}, checkpoint {list(c)})'
        for k, m, c in mismatch.mismatched
    ]
    head = getattr(model, 'cls_head', None)
    head_name = type(head).__name__ if head is not None else 'the model'
    return (f'Checkpoint {filename} does not hold the weights of this model '
            f'({type(model).__name__} with {head_name}); parts left randomly '
            f'initialised: {", ".join(parts)}.' +
            _listing('missing keys', mismatch.missing) +
            _listing('shape mismatches', mismatched) +
            _listing('unexpected keys in the checkpoint', mismatch.unexpected))


def _head_sizes(model: nn.Module, checkpoint, revise_keys: Sequence) -> str:
    """The sizes an HM-AN head's checkpoint was trained with, where they
    differ from the model's head, and the fix ('' for other heads)."""
    if is_model_wrapper(model):
        model = model.module
    head = getattr(model, 'cls_head', None)
    if head is None or not hasattr(head, BUFFER):
        return ''
    loaded = {}
    for key, value in _state_dict(checkpoint).items():
        for pattern, replacement in revise_keys:
            key = re.sub(pattern, replacement, key)
        loaded[key] = value
    return size_report(head, loaded, 'cls_head.')


def refuse_incomplete(model: nn.Module,
                      checkpoint,
                      filename: str,
                      revise_keys: Sequence = DEFAULT_REVISE_KEYS) -> None:
    """Raise :class:`CheckpointMismatchError` unless ``checkpoint`` fills
    every weight of ``model``."""
    mismatch = checkpoint_mismatch(model, checkpoint, revise_keys)
    if mismatch:
        raise CheckpointMismatchError(
            describe(mismatch, filename, model) +
            _head_sizes(model, checkpoint, revise_keys) +
            '\nScores of this model would come from random weights. Use '
            'the checkpoint trained with this config, or the config the '
            'checkpoint was trained with.')
