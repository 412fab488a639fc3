"""``FitFrameSize``: frames never larger than the model was built for.

mmaction2's ``ActionDataPreprocessor`` pads every clip of a batch to the
largest frame in it. A pipeline without a resize therefore turns one
1920x1080 video among 64x64 ones into a batch of 1920x1080 clips: for the
demo (batch 16, 8 frames) about 1.6 GB of input and tens of GB of
activations, and the kernel kills the run with only ``Killed`` on screen.

This transform goes right after the decoder. A frame larger than ``size``
(width, height) in either side is resized to ``size`` with mmaction2's
``Resize`` (``keep_ratio=False``, as TSN's ``Resize(scale=(224, 224))``);
smaller frames are kept (the head attends over any ``H x W``; upscaling
only costs time). When a frame's area is more than ``warn_ratio`` times
``size``'s, a warning names the video and both sizes once per video, so a
user sees that inference or training runs on frames far from what the
model learnt from.

:func:`batch_input_bytes` is the memory estimate of one padded batch.
"""
import logging
from typing import Sequence, Tuple, Union

from mmaction.datasets.transforms import Resize
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    width, height = size
    return int(width), int(height)


def batch_input_bytes(batch_size: int,
                      frames: int,
                      width: int,
                      height: int,
                      channels: int = 3,
                      bytes_per_value: int = 4) -> int:
    """Bytes of one preprocessed batch ``[N, T, C, H, W]`` (float32)."""
    return batch_size * frames * channels * height * width * bytes_per_value


@TRANSFORMS.register_module()
class FitFrameSize(BaseTransform):
    """Resize frames larger than ``size`` down to ``size`` (see module doc).

    Required keys: ``imgs``, ``img_shape``; modified: ``imgs``,
    ``img_shape`` (and what mmaction2's ``Resize`` adds).

    Args:
        size (int | tuple[int, int]): ``(width, height)`` the model was built
            for (an int for a square).
        warn_ratio (float): warn when a frame's area exceeds ``size``'s by
            more than this factor. Defaults to 4.
    """

    def __init__(self, size, warn_ratio: float = 4.0) -> None:
        self.width, self.height = _pair(size)
        if self.width < 1 or self.height < 1:
            raise ValueError(f'FitFrameSize size must be positive, got {size}')
        self.warn_ratio = warn_ratio
        self._resize = Resize(
            scale=(self.width, self.height), keep_ratio=False)
        self._warned = set()

    def transform(self, results: dict) -> dict:
        height, width = results['img_shape']
        if width <= self.width and height <= self.height:
            return results
        ratio = width * height / (self.width * self.height)
        name = results.get('filename', '<in-memory video>')
        if ratio > self.warn_ratio and name not in self._warned:
            self._warned.add(name)
            print_log(
                f'{name}: frames are {width}x{height}, {ratio:.0f}x the area '
                f'of the {self.width}x{self.height} this model was built '
                f'for; resized to {self.width}x{self.height}. Prepare the '
                'video at the size of the training data for best results.',
                logger='current',
                level=logging.WARNING)
        return self._resize(results)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size=({self.width}, {self.height}), '
                f'warn_ratio={self.warn_ratio})')
