"""Where a pixel of the video lands in the model's input: ``box_geometry``.

mmaction2's geometric transforms record what they did: ``original_shape``
(the decoded frame, ``(h0, w0)``), ``scale_factor`` (the product of every
``Resize``'s ``(new_w / w, new_h / h)``), ``crop_bbox`` (``[x1, y1, x2,
y2]`` of a crop in the image it was cut from; ``ThreeCrop`` / ``TenCrop``:
one row per output frame), ``flip`` / ``flip_direction`` and the final
``img_shape`` ``(h, w)``. For the test pipelines (resize, crop, resize) a
video pixel ``x`` lands at

    x' = s_x x + t_x,   s_x = scale_factor_x,
    t_x = -x1 * w / (x2 - x1)    (0 without a crop),

and without a ``Resize`` ``s_x = w / w0`` (what ``FitFrameSize`` does or
leaves); a horizontal flip makes it ``w - x'``. The same for ``y``.

:func:`view_geometry` returns one row per output frame ``[S, 8]``:
``(s_x, s_y, t_x, t_y, w, h, w0, h0)``; :class:`RecordBoxGeometry` (the
transform that goes right before ``PackActionInputs``) stores it as
``results['box_geometry']`` for :class:`AttentionMetric`, which maps the
generator's boxes onto the feature grid with it.
"""
import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

GEOMETRY_COLUMNS = ('scale_x', 'scale_y', 'shift_x', 'shift_y', 'width',
                    'height', 'video_width', 'video_height')


def view_geometry(results: dict, frames: int = None) -> np.ndarray:
    """``[S, 8]`` float32 rows :data:`GEOMETRY_COLUMNS` (module doc) of the
    ``S`` output frames of a transformed sample (``frames`` defaults to
    ``len(results['imgs'])``)."""
    if 'original_shape' not in results or 'img_shape' not in results:
        raise KeyError('box geometry needs the decoder\'s original_shape and '
                       'the final img_shape; put RecordBoxGeometry after the '
                       'decoding and geometric transforms of the pipeline')
    if frames is None:
        frames = len(results['imgs'])
    h0, w0 = (float(v) for v in results['original_shape'][:2])
    h, w = (float(v) for v in results['img_shape'][:2])
    rows = np.zeros((frames, 8), np.float32)
    rows[:, 4:] = (w, h, w0, h0)
    crops = results.get('crop_bbox')
    if crops is None:
        rows[:, 0], rows[:, 1] = w / w0, h / h0
    else:
        crops = np.asarray(crops, np.float64).reshape(-1, 4)
        if len(crops) not in (1, frames):
            raise ValueError(
                f'crop_bbox has {len(crops)} rows for {frames} frames')
        scale = np.asarray(results.get('scale_factor', (1.0, 1.0)), float)
        crops = np.broadcast_to(crops, (frames, 4))
        rows[:, 0], rows[:, 1] = scale[0], scale[1]
        rows[:, 2] = -crops[:, 0] * w / (crops[:, 2] - crops[:, 0])
        rows[:, 3] = -crops[:, 1] * h / (crops[:, 3] - crops[:, 1])
    if results.get('flip'):
        axis = {
            'horizontal': 0,
            'vertical': 1
        }.get(results.get('flip_direction', 'horizontal'))
        if axis is None:
            raise ValueError('box geometry knows horizontal and vertical '
                             f'flips, got {results.get("flip_direction")!r}')
        size = (w, h)[axis]
        rows[:, axis] = -rows[:, axis]
        rows[:, 2 + axis] = size - rows[:, 2 + axis]
    return rows


@TRANSFORMS.register_module()
class RecordBoxGeometry(BaseTransform):
    """``results['box_geometry']`` = :func:`view_geometry` (module doc).

    Required keys: ``imgs``, ``original_shape``, ``img_shape`` (and what the
    geometric transforms added). Added key: ``box_geometry``."""

    def transform(self, results: dict) -> dict:
        results['box_geometry'] = view_geometry(results)
        return results
