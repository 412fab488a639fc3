"""Reading the original video and writing the annotated one.

Every frame ``f`` of the original video is shown with the attention map of
the step whose span holds it (:meth:`HMANTrace.step_of_frame`), and a text
band beneath: the step, the time, the class predicted at that step with its
probability, the boundaries ``z`` of every layer at that step and the
top-layer segment.
"""
from typing import Sequence

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from .overlay import attention_overlay
from .trace import HMANTrace

BAND_LINES = 3


def open_video(path: str):
    """A decord ``VideoReader`` (mmaction2's own decoder)."""
    import decord
    try:
        return decord.VideoReader(path)
    except Exception as error:  # decord raises its own DECORDError
        raise RuntimeError(f'decord cannot read {path}: {error}') from error


def read_frames(path: str, indices: Sequence[int]) -> np.ndarray:
    """RGB frames ``[len(indices), H, W, 3]``."""
    reader = open_video(path)
    return reader.get_batch([int(i) for i in indices]).asnumpy()


def _scale(frame_hw, min_side: int) -> float:
    return max(1.0, min_side / float(min(frame_hw)))


def write_annotated_video(trace: HMANTrace,
                          video: str,
                          path: str,
                          min_side: int = 256,
                          progress: bool = True) -> dict:
    """Write every frame of ``video`` with heat-map and labels to ``path``
    (mp4v, the video's frame rate). Frames are enlarged so their short side
    is at least ``min_side`` pixels. Returns ``dict(frames, width, height,
    fps)`` of the written file."""
    reader = open_video(video)
    total = len(reader)
    if total != trace.total_frames:
        raise ValueError(f'{video} has {total} frames, the trace '
                         f'{trace.total_frames}: not the same video')
    height, width = reader[0].shape[:2]
    scale = _scale((height, width), min_side)
    out_w, out_h = int(round(width * scale)), int(round(height * scale))
    line_h = max(14, out_w // 22)
    band = BAND_LINES * line_h + 6
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), trace.fps,
                             (out_w, out_h + band))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {path}; install '
                           'opencv-python with FFMPEG support')
    hard = trace.hard_attention
    segments = trace.segments(-1)
    predictions = trace.step_predictions()
    bar = ProgressBar(total) if progress else None
    try:
        for index in range(total):
            frame = reader[index].asnumpy()
            t = trace.step_of_frame(index)
            big = cv2.resize(
                frame, (out_w, out_h), interpolation=cv2.INTER_NEAREST)
            shown = attention_overlay(
                big,
                trace.attention[t],
                trace.crop_quadruple,
                trace.flip,
                mark_cell=hard,
                thickness=max(1, out_w // 128))
            canvas = np.zeros((out_h + band, out_w, 3), np.uint8)
            canvas[:out_h] = shown
            segment = next(s['index'] for s in segments
                           if s['start_step'] <= t <= s['end_step'])
            z = ' '.join(f'L{layer + 1}:{int(trace.boundaries[layer, t])}'
                         for layer in range(trace.num_layers))
            pred = predictions[t]
            lines = [
                f'step {t + 1}/{trace.num_steps}  {index / trace.fps:.2f}s',
                f'{pred["class_name"]} {pred["score"]:.2f}',
                f'z {z}  seg {segment + 1}/{len(segments)}',
            ]
            font = line_h / 30.0
            for row, text in enumerate(lines):
                cv2.putText(canvas, text, (4, out_h + (row + 1) * line_h),
                            cv2.FONT_HERSHEY_SIMPLEX, font, (255, 255, 255), 1,
                            cv2.LINE_AA)
            writer.write(np.ascontiguousarray(canvas[..., ::-1]))
            if bar is not None:
                bar.update()
    finally:
        writer.release()
    if bar is not None:
        bar.file.write('\n')  # ProgressBar leaves its line open
        bar.file.flush()
    return dict(frames=total, width=out_w, height=out_h + band, fps=trace.fps)
