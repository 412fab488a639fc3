"""The runner's test-time checks for ``mmaction.apis``' inference.

``init_recognizer(config, checkpoint)`` + ``inference_recognizer(model,
video)`` never build a runner, so neither the view check
(:mod:`~hman_mmaction.engine.view_check`: a ``test_pipeline`` of
``num_clips=16`` for a head of ``num_segments=8`` averages two half-video
"views") nor the checkpoint-config check
(:mod:`~hman_mmaction.engine.checkpoint_config`) ran there. The
``strict_inference`` compat fix calls :func:`attach_inference_checks` when
``init_recognizer`` loads a checkpoint; the checks then run before the
model's first forward pass, when ``model.cfg`` (set by ``init_recognizer``
after loading) is known, and the view check before every one.
"""
from .checkpoint_config import check_checkpoint_config
from .view_check import check_sequence_views

ATTRIBUTE = '_hman_inference_checks'


class _InferenceChecks:

    def __init__(self, meta: dict, filename: str):
        self.checkpoint = dict(meta=meta)  # the saved config, not weights
        self.filename = filename
        self.config_checked = False

    def __call__(self, model, args):
        cfg = getattr(model, 'cfg', None)
        if cfg is None:  # not built by init_recognizer
            return
        pipeline = cfg.get('test_pipeline', None)
        if pipeline is not None:
            check_sequence_views(model, dict(dataset=dict(pipeline=pipeline)),
                                 'test_pipeline')
        if not self.config_checked:
            check_checkpoint_config(self.checkpoint, cfg, self.filename,
                                    'inference')
            self.config_checked = True


def attach_inference_checks(model, checkpoint, filename: str) -> None:
    """Run the view and checkpoint-config checks before ``model``'s forward
    passes (once per model; a new checkpoint replaces the old one's)."""
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    checks = _InferenceChecks(meta or {}, filename)
    previous = getattr(model, ATTRIBUTE, None)
    if previous is not None:
        previous[1].remove()
    handle = model.register_forward_pre_hook(checks)
    object.__setattr__(model, ATTRIBUTE, (checks, handle))
