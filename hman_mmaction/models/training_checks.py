"""What ``HMANHead.loss`` checks of a training batch before the loss.

* **Labels**: a label outside ``[0, num_classes)`` used to crash inside the
  loss (``IndexError: Target 12 is out of bounds``) when the dataset config
  has no ``num_classes`` (how mmaction2's own configs are written). The
  head knows its ``num_classes``: :func:`check_labels` raises
  :class:`LabelOutOfRangeError` naming the label, the sample's video and
  annotation line where its metainfo has them, and the fix. Checked where
  the labels are on the CPU (no device sync in a CUDA step: there
  :class:`~hman_mmaction.engine.run_checks_hook.RunChecksHook` checks every
  annotation line before training).
* **The plugin's hooks**: without ``ExactResumeHook`` a resume is not
  exact, without ``RunChecksHook`` the data and output paths are not
  checked before the run. The hooks mark the heads they serve
  (:func:`mark_hook`); the first training step of an unmarked head logs
  one line naming the ``custom_hooks`` entry to add.
"""
import logging
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .checkpoint_guard import accept_training

#: hook type -> what a config without it lacks
PLUGIN_HOOKS = {
    'ExactResumeHook':
    'resume will not be exact (RNG states and the '
    'position in the epoch are not saved)',
    'RunChecksHook':
    'annotation labels, test views and output paths are '
    'not checked before the run',
}


class LabelOutOfRangeError(ValueError):
    """A training label outside ``[0, num_classes)``."""


def mark_hook(head: nn.Module, name: str) -> None:
    """Record that the hook ``name`` serves ``head``."""
    marks = getattr(head, '_plugin_hooks', set())
    marks.add(name)
    head._plugin_hooks = marks


def _note_missing_hooks(head: nn.Module) -> None:
    if getattr(head, '_hooks_noted', False):
        return
    head._hooks_noted = True
    missing = [
        name for name in PLUGIN_HOOKS
        if name not in getattr(head, '_plugin_hooks', set())
    ]
    if not missing:
        return
    entries = ', '.join(f"dict(type='{name}')" for name in missing)
    print_log(
        f'{type(head).__name__}: this config lacks {", ".join(missing)}: ' +
        '; '.join(PLUGIN_HOOKS[name] for name in missing) +
        f'. Add to the config: custom_hooks = [{entries}] (README, '
        '"Your own config").',
        logger='current',
        level=logging.WARNING)


def _where(sample) -> str:
    meta = sample.metainfo
    filename = meta.get('filename')
    if filename is None:
        return (' (its video is not in the data sample\'s metainfo: '
                "dict(type='RunChecksHook') names the annotation file and "
                'line before training)')
    line = meta.get('ann_line')
    return f' of {filename}' + (f' (annotation line {line})' if line else '')


def check_labels(head: nn.Module, data_samples: Sequence) -> None:
    """Raise :class:`LabelOutOfRangeError` for an integer label outside
    ``[0, head.num_classes)`` (CPU labels; soft labels are skipped)."""
    for sample in data_samples:
        label = sample.gt_label
        if (not isinstance(label, torch.Tensor) or label.is_floating_point()
                or label.device.type != 'cpu' or label.numel() == 0):
            continue
        low, high = int(label.min()), int(label.max())
        if low >= 0 and high < head.num_classes:
            continue
        bad = low if low < 0 else high
        raise LabelOutOfRangeError(
            f'Training label {bad}{_where(sample)} is outside [0, '
            f'{head.num_classes}): {type(head).__name__} has num_classes='
            f'{head.num_classes}. Fix the annotation line, or, if the data '
            f'has {max(bad + 1, head.num_classes)} classes, set '
            f'model.cls_head.num_classes={max(bad + 1, head.num_classes)}.')


def check_training_batch(head: nn.Module, data_samples: Sequence) -> None:
    """Everything above, first thing in ``HMANHead.loss``; also hands the
    head to training (:func:`~.checkpoint_guard.accept_training`)."""
    check_labels(head, data_samples)
    accept_training(head)
    _note_missing_hooks(head)
