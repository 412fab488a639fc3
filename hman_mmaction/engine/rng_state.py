"""Random-number-generator state in checkpoints, so a resumed run draws the
same Gumbel noise, dropout masks and augmentations as an uninterrupted one.

mmengine checkpoints keep the seed but not the generators' *states*.
:class:`RNGStateHook` stores the torch (CPU and CUDA), numpy and Python
``random`` states in ``checkpoint['meta']['rng_state']`` as tensors, ints
and floats only, so the checkpoint still loads with
``torch.load(weights_only=True)``. On ``--resume`` the state is handed to
:class:`~hman_mmaction.engine.loops.ResumableEpochBasedTrainLoop`, which
restores it right before the first batch it trains (other loops: restored
at load). Validation runs between a saved state and the next training
batch; the hook makes it RNG-neutral (states saved before, restored after),
so training draws the same numbers with or without validation, and a
checkpoint written during validation (mmengine re-saves the epoch
checkpoint there when ``save_best`` finds a new best score) stores the
state saved before validation: the one training continues from. In a
distributed job rank 0's state is saved and restored on every rank.
"""
import random
from typing import Optional

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook

META_KEY = 'rng_state'


def capture_rng_state() -> dict:
    """The global generators' states as weights-only-loadable values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state = dict(
        torch=torch.get_rng_state(),
        numpy=dict(
            kind=kind,
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached)),
        python=dict(
            version=int(version),
            internal=torch.tensor(internal, dtype=torch.int64),
            gauss=gauss))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.stack(torch.cuda.get_rng_state_all())
    return state


def restore_rng_state(state: dict) -> None:
    """Inverse of :func:`capture_rng_state`."""
    torch.set_rng_state(state['torch'])
    np_state = state['numpy']
    np.random.set_state(
        (np_state['kind'], np_state['keys'].numpy().astype(np.uint32),
         np_state['pos'], np_state['has_gauss'], np_state['cached_gaussian']))
    py_state = state['python']
    random.setstate(
        (py_state['version'],
         tuple(int(v)
               for v in py_state['internal'].tolist()), py_state['gauss']))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state['cuda']))


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Saves the RNG states into checkpoints, restores them on resume, and
    keeps validation from consuming the training random stream.
    (``ExactResumeHook`` is this hook plus the exact mid-epoch resume.)"""

    priority = 'VERY_LOW'

    def __init__(self):
        self._before_val: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # During validation the state training continues from is the one
        # saved before it (restored after it): mmengine's CheckpointHook
        # saves the epoch checkpoint *again* after validation when a new
        # best score is found (to store it), and the current state there has
        # been advanced by validation.
        state = (
            self._before_val
            if self._before_val is not None else capture_rng_state())
        checkpoint.setdefault('meta', {})[META_KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('meta', {}).get(META_KEY)
        if state is None or not getattr(runner, '_resume', False):
            return  # load_from (fine-tuning, testing) keeps fresh seeds
        loop = getattr(runner, '_train_loop', None)
        if hasattr(loop, 'pending_rng_state'):
            loop.pending_rng_state = state
        else:
            restore_rng_state(state)

    def before_val(self, runner) -> None:
        self._before_val = capture_rng_state()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            restore_rng_state(self._before_val)
            self._before_val = None
