"""An ``HMANHead`` carries what it was trained with and scores only with
weights it really got, whatever loaded them.

mmengine loads checkpoints with ``strict=False`` (its runner's ``load_from``
and ``resume``, ``mmengine.runner.load_checkpoint``, mmaction2's
``init_recognizer``) and only logs the keys it could not match: a head
whose weights stayed random then prints an accuracy. The guard lives in the
head, so it holds for every config that names ``HMANHead``, whatever runs
it:

* the head has a persistent buffer ``trained_with`` (``[num_classes,
  in_channels, num_segments, rnn.hidden_size, rnn.num_layers]``), so its
  checkpoints say what they were trained with;
* a ``load_state_dict`` pre-hook sees the head's own keys in the loaded
  state dict: keys missing or of another shape are recorded with both
  sizes (from ``trained_with``) and the fix;
* :func:`refuse_unfilled` (first thing in ``predict``) raises
  :class:`CheckpointMismatchError` with that record, and
  ``TestTimeStepsError`` when the checkpoint was trained with another
  ``num_segments`` than the head's, unless the config says that is
  intended (``cls_head.test_cfg=dict(accept_num_segments_change=True)``);
* :func:`accept_training` (called by the head's ``loss``): a training
  step makes the head its own (``load_from`` for transfer, e.g. a TSN
  backbone): one WARNING names what starts from its initialisation, the
  record is dropped and ``trained_with`` becomes the head's sizes.

Checkpoints written before the buffer existed load as before (the buffer
keeps the head's values; their step count cannot be compared).
"""
import logging
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

BUFFER = 'trained_with'
#: the sizes ``trained_with`` holds, in order, with their config keys
SIZES = (('num_classes', 'cls_head.num_classes'),
         ('in_channels', 'cls_head.in_channels'), ('num_segments',
                                                   'cls_head.num_segments'),
         ('hidden_size', 'cls_head.rnn.hidden_size'),
         ('num_layers', 'cls_head.rnn.num_layers'))
ACCEPT_STEPS = 'accept_num_segments_change'
SHOWN = 8  # keys named per kind; the count is always given


class CheckpointMismatchError(RuntimeError):
    """The checkpoint does not hold the weights of the whole model."""


class TestTimeStepsError(ValueError):
    """A head tested with another step count than it was trained with."""

    __test__ = False  # not a pytest class


def head_sizes(head: nn.Module) -> Dict[str, int]:
    """``{name: value}`` of :data:`SIZES` for ``head``."""
    return dict(
        num_classes=head.num_classes,
        in_channels=head.in_channels,
        num_segments=head.num_segments,
        hidden_size=head.rnn.hidden_size,
        num_layers=head.rnn.num_layers)


def guard_checkpoint(head: nn.Module) -> None:
    """Give ``head`` its ``trained_with`` buffer and the load pre-hook
    (called at the end of ``HMANHead.__init__``)."""
    sizes = head_sizes(head)
    head.register_buffer(BUFFER,
                         torch.tensor([sizes[name] for name, _ in SIZES]))
    head._checkpoint_unfilled = None  # what the last load left unfilled
    head._checkpoint_sizes = None  # trained_with of the last load
    head._register_load_state_dict_pre_hook(_check_loaded, with_module=True)


def _listing(title: str, items: List[str]) -> str:
    if not items:
        return ''
    more = f' ... and {len(items) - SHOWN} more' if len(items) > SHOWN else ''
    return f'\n  {title} ({len(items)}): {", ".join(items[:SHOWN])}{more}'


def _size_differences(saved: Optional[Dict[str, int]],
                      own: Dict[str, int]) -> List[str]:
    if saved is None:
        return []
    return [
        f'{key}: checkpoint {saved[name]}, this head {own[name]}'
        for name, key in SIZES if saved[name] != own[name]
    ]


def _check_loaded(head, state_dict, prefix, local_metadata, strict,
                  missing_keys, unexpected_keys, error_msgs) -> None:
    """Record what the loaded ``state_dict`` leaves unfilled in ``head``."""
    key = prefix + BUFFER
    own = head_sizes(head)
    saved = saved_sizes(state_dict, prefix)
    if key not in state_dict:  # an older checkpoint: nothing to compare
        state_dict[key] = getattr(head, BUFFER).detach().clone()
    head._checkpoint_sizes = saved
    missing, mismatched = [], []
    resized = _sized_by_checkpoint(head)
    for name, value in head.state_dict().items():
        if prefix + name not in state_dict:
            missing.append(prefix + name)
        elif name in resized:
            continue
        elif tuple(state_dict[prefix + name].shape) != tuple(value.shape):
            mismatched.append(
                f'{prefix}{name} (head {list(value.shape)}, checkpoint '
                f'{list(state_dict[prefix + name].shape)})')
    if not missing and not mismatched:
        head._checkpoint_unfilled = None
        return
    sizes = _size_differences(saved, own)
    what = ('it was trained with other sizes:\n  ' + '\n  '.join(sizes)
            if sizes else 'it holds no HMANHead of these sizes'
            if saved is None else 'its head weights differ')
    head._checkpoint_unfilled = (
        f'The checkpoint loaded into {type(head).__name__} '
        f'({prefix.rstrip(".") or "head"}) does not fill it: {what}' +
        _listing('missing keys', missing) +
        _listing('shape mismatches', mismatched))


def _sized_by_checkpoint(head: nn.Module) -> set:
    """State-dict names (relative to ``head``) of the buffers whose size
    the loaded checkpoint sets: a module lists them in its
    ``sized_by_checkpoint`` (e.g. ``BoundaryRateLoss(target_rate='auto')``)."""
    return {
        f'{name}.{buffer}' if name else buffer
        for name, module in head.named_modules()
        for buffer in getattr(module, 'sized_by_checkpoint', ())
    }


def accept_training(head: nn.Module) -> None:
    """A training step: the head's weights are now its own (see module
    doc); a partial load is named once, as a transfer."""
    if head._checkpoint_unfilled is not None:
        print_log(
            head._checkpoint_unfilled + '\nTraining goes on from the '
            'weights that matched (load_from: transfer); the parts named '
            'above start from their initialisation.',
            logger='current',
            level=logging.WARNING)
        head._checkpoint_unfilled = None
    if head._checkpoint_sizes is not None:
        sizes = head_sizes(head)
        getattr(head, BUFFER).copy_(
            torch.tensor([sizes[name] for name, _ in SIZES]))
        head._checkpoint_sizes = None


def refuse_unfilled(head: nn.Module) -> None:
    """Raise before scoring with weights the last load did not provide, or
    with another step count than the checkpoint was trained with."""
    if head._checkpoint_unfilled is not None:
        fix = _fix(head._checkpoint_sizes, head_sizes(head))
        raise CheckpointMismatchError(head._checkpoint_unfilled +
                                      '\nIts scores would come from '
                                      f'random weights. {fix}')
    saved = head._checkpoint_sizes
    if saved is None or saved['num_segments'] == head.num_segments:
        return
    if head.test_cfg.get(ACCEPT_STEPS, False):
        return
    raise TestTimeStepsError(
        f'{type(head).__name__} was trained with num_segments='
        f'{saved["num_segments"]} (the checkpoint\'s trained_with) but runs '
        f'{head.num_segments} steps here. Set cls_head.num_segments='
        f'{saved["num_segments"]} and clip_len x num_clips = '
        f'{saved["num_segments"]} in the test pipeline\'s SampleFrames, or, '
        'if another step count is intended, say so in the config: '
        f'cls_head.test_cfg=dict({ACCEPT_STEPS}=True).')


def saved_sizes(state_dict: dict, prefix: str) -> Optional[Dict[str, int]]:
    """The ``trained_with`` sizes a state dict holds under ``prefix``."""
    value = state_dict.get(prefix + BUFFER)
    if value is None or tuple(value.shape) != (len(SIZES), ):
        return None
    return dict(zip((name for name, _ in SIZES), value.tolist()))


def size_report(head: nn.Module, state_dict: dict, prefix: str) -> str:
    """What a state dict's head was trained with, where it differs from
    ``head``, and the fix ('' if it does not say)."""
    saved, own = saved_sizes(state_dict, prefix), head_sizes(head)
    sizes = _size_differences(saved, own)
    if not sizes:
        return ''
    return ('\nIt was trained with other sizes:\n  ' + '\n  '.join(sizes) +
            '\n' + _fix(saved, own))


def _fix(saved: Optional[Dict[str, int]], own: Dict[str, int]) -> str:
    if saved is None:
        return ('Use the checkpoint trained with this config, or the config '
                'the checkpoint was trained with.')
    options = ' '.join(f'{key}={saved[name]}' for name, key in SIZES
                       if saved[name] != own[name])
    return ('Use the config the checkpoint was trained with' +
            (f' (--cfg-options model.{options.replace(" ", " model.")})'
             if options else '') +
            ', or the checkpoint trained with this config.')
