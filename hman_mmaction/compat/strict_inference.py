"""``mmaction.apis.init_recognizer`` refuses a checkpoint that does not fill
the model.

``init_recognizer(config, checkpoint)`` loads with mmengine's
``load_checkpoint(strict=False)``, which only prints the keys it could not
match: a TSN checkpoint given with the HM-AN config (or the reverse) yields
a model with a random head whose predictions look normal. The fix wraps
the ``load_checkpoint`` name that ``mmaction.apis.inference`` calls, so
after loading it raises
:class:`~hman_mmaction.engine.checkpoint_match.CheckpointMismatchError`
naming the missing, mismatched and unexpected keys, and attaches the
runner's test-time checks (views of ``test_pipeline``, the checkpoint's
saved config: :mod:`~hman_mmaction.engine.inference_checks`), which run
before the model's forward passes. Every other caller of
mmengine's ``load_checkpoint`` (backbone ``init_cfg`` pretraining, our
runner) is untouched.
"""
import functools

MARK = '_hman_refuses_incomplete'


def _strict(load_checkpoint):

    @functools.wraps(load_checkpoint)
    def load_whole_model(model, filename, *args, **kwargs):
        from ..engine.checkpoint_match import (DEFAULT_REVISE_KEYS,
                                               refuse_incomplete)
        from ..engine.inference_checks import attach_inference_checks
        checkpoint = load_checkpoint(model, filename, *args, **kwargs)
        revise_keys = kwargs.get('revise_keys', DEFAULT_REVISE_KEYS)
        refuse_incomplete(model, checkpoint, str(filename), revise_keys)
        attach_inference_checks(model, checkpoint, str(filename))
        return checkpoint

    setattr(load_whole_model, MARK, True)
    return load_whole_model


def make_init_recognizer_strict() -> bool:
    """Wrap ``mmaction.apis.inference.load_checkpoint``; True if it did."""
    from mmaction.apis import inference
    if getattr(inference.load_checkpoint, MARK, False):
        return False
    inference.load_checkpoint = _strict(inference.load_checkpoint)
    return True
