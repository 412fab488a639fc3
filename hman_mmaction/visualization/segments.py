"""Sub-action segments implied by a layer's boundary detector.

In the HM-LSTM a boundary ``z_t^l = 1`` at step ``t`` ends the segment of
layer ``l``: at ``t + 1`` the layer FLUSHes (starts a new summary). So the
steps ``0 .. T-1`` are cut right after every step with ``z_t = 1``::

    z       = 0 1 0 0 1 0 0 0
    segment = [0,1] [2,4] [5,7]

A boundary on the last step closes the last segment and cuts nothing.

Step ``t`` stands for the frames from its sampled frame ``frame_inds[t]`` up
to the frame before ``frame_inds[t + 1]`` (the first step from frame 0, the
last one to the end of the video), so a segment of steps ``s..e`` covers the
frames ``[0 if s == 0 else frame_inds[s], frame_inds[e + 1] - 1 or
total_frames - 1]`` and the times ``start_frame / fps`` to
``(end_frame + 1) / fps`` seconds.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np


def step_runs(boundaries: Sequence[float]) -> List[Tuple[int, int]]:
    """``(first_step, last_step)`` of every segment, inclusive."""
    z = np.asarray(boundaries).reshape(-1)
    if z.size == 0:
        return []
    runs, start = [], 0
    for t, value in enumerate(z[:-1]):
        if value > 0.5:
            runs.append((start, t))
            start = t + 1
    runs.append((start, z.size - 1))
    return runs


def step_frame_spans(frame_inds: Sequence[int],
                     total_frames: int) -> List[Tuple[int, int]]:
    """Inclusive ``(first_frame, last_frame)`` each step stands for (see the
    module doc); the spans tile ``[0, total_frames - 1]``."""
    inds = [int(i) for i in np.asarray(frame_inds).reshape(-1)]
    if not inds:
        return []
    if any(b <= a for a, b in zip(inds, inds[1:])):
        raise ValueError(f'frame_inds must increase strictly, got {inds}')
    if inds[-1] >= total_frames:
        raise ValueError(f'frame index {inds[-1]} is past the end of a '
                         f'{total_frames}-frame video')
    starts = [0] + inds[1:]
    ends = [i - 1 for i in inds[1:]] + [total_frames - 1]
    return list(zip(starts, ends))


def segments_from_boundaries(boundaries: Sequence[float],
                             frame_inds: Sequence[int],
                             total_frames: int,
                             fps: float,
                             step_scores: Optional[np.ndarray] = None,
                             class_names: Optional[Sequence[str]] = None
                             ) -> List[dict]:
    """The segments of one layer, as JSON-ready dicts.

    Args:
        boundaries: ``z_t`` of the layer, ``[T]`` (0/1).
        frame_inds: the frame of the original video each step read, ``[T]``.
        total_frames: frames in the original video.
        fps: its frame rate (for the times in seconds).
        step_scores: optional ``[T, num_classes]`` per-step class
            probabilities; the segment then names the class predicted at its
            last step (``class_index``, ``class_name``, ``score``).
        class_names: names for the class indices.

    Returns:
        one dict per segment with ``index``, ``start_step``, ``end_step``
        (inclusive), ``start_frame``, ``end_frame`` (inclusive, original
        video), ``start_time``, ``end_time`` (seconds).
    """
    z = np.asarray(boundaries).reshape(-1)
    inds = np.asarray(frame_inds).reshape(-1)
    if z.size != inds.size:
        raise ValueError(f'{z.size} boundaries for {inds.size} frame '
                         'indices: both must have one entry per step')
    if fps <= 0:
        raise ValueError(f'fps must be > 0, got {fps}')
    spans = step_frame_spans(inds, total_frames)
    segments = []
    for index, (first, last) in enumerate(step_runs(z)):
        start_frame, end_frame = spans[first][0], spans[last][1]
        segment = dict(
            index=index,
            start_step=first,
            end_step=last,
            start_frame=start_frame,
            end_frame=end_frame,
            start_time=round(start_frame / fps, 4),
            end_time=round((end_frame + 1) / fps, 4))
        if step_scores is not None:
            scores = np.asarray(step_scores)[last]
            label = int(scores.argmax())
            segment.update(
                class_index=label,
                class_name=class_name(label, class_names),
                score=float(scores[label]))
        segments.append(segment)
    return segments


def class_name(index: int, class_names: Optional[Sequence[str]]) -> str:
    """``class_names[index]``, or the index as text when there are none."""
    if class_names is not None and 0 <= index < len(class_names):
        return class_names[index]
    return str(index)
