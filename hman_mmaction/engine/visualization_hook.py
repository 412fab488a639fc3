"""mmaction2's ``VisualizationHook`` for 2D recognizers (``tools/test.py
--show-dir``)."""
import torch
from mmaction.engine.hooks import VisualizationHook
from mmaction.registry import HOOKS


@HOOKS.register_module()
class FrameVisualizationHook(VisualizationHook):
    """Draws test/val samples with mmaction2's ``ActionVisualizer``.

    Two mismatches of mmaction2 1.2.0 are bridged, everything else is the
    upstream hook: (1) it reads every input as ``[C, T, H, W]`` (``NCTHW``,
    3D recognizers), while a ``Recognizer2D`` pipeline (``FormatShape
    NCHW``) gives ``[T, C, H, W]`` (all views' frames in a row), handed over
    as ``[C, T, H, W]`` here; (2) it passes ``show=`` to
    ``ActionVisualizer.add_datasample``, which only takes ``show_frames=``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.draw_args['show_frames'] = self.draw_args.pop('show', False)

    def _draw_samples(self, batch_idx, data_batch, data_samples, step=0):
        inputs = [
            frames_first_to_channels_first(video)
            for video in data_batch['inputs']
        ]
        super()._draw_samples(
            batch_idx,
            dict(data_batch, inputs=inputs),
            data_samples,
            step=step)


def frames_first_to_channels_first(video: torch.Tensor) -> torch.Tensor:
    """``[T, C, H, W]`` with ``C`` in (1, 3) -> ``[C, T, H, W]``; other
    layouts are returned unchanged."""
    if video.dim() == 4 and video.shape[1] in (1, 3) and \
            video.shape[0] not in (1, 3):
        return video.transpose(0, 1)
    return video
