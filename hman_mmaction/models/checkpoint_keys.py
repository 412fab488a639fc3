"""State-dict keys of ``HMANHead`` checkpoints written before its losses
moved into one dict and the next-step predictor became a head component,
and their places now::

    loss_<slot>.*              -> losses.loss_<slot>.*  (every loss option)
    loss_aux.*                 -> losses.loss_aux.loss.*
    loss_predict.predictor.*   -> predictor.fc.*

:func:`upgrade_head_keys` renames them in a state dict, in place; the head
runs it as a load pre-hook (before the checkpoint guard's), so an old
checkpoint loads whole, and ``RunChecksHook`` compares with the same names.
"""
from typing import MutableMapping

#: old key prefix (under the head's prefix) -> new one, most specific first
RENAMED = (
    ('loss_predict.predictor.', 'predictor.fc.'),
    ('loss_aux.', 'losses.loss_aux.loss.'),
) + tuple((f'{slot}.', f'losses.{slot}.')
          for slot in ('loss_attention', 'loss_entropy', 'loss_score_function',
                       'loss_boundary', 'loss_predict', 'loss_segment'))


def upgrade_head_keys(state_dict: MutableMapping, prefix: str) -> None:
    """Rename the old keys of the head under ``prefix`` (e.g.
    ``'cls_head.'``) in ``state_dict`` (module doc)."""
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        for old, new in RENAMED:
            if rest.startswith(old):
                state_dict[prefix + new +
                           rest[len(old):]] = state_dict.pop(key)
                break


def upgrade_hook(state_dict, prefix, *args) -> None:
    """``upgrade_head_keys`` as a ``load_state_dict`` pre-hook."""
    upgrade_head_keys(state_dict, prefix)
