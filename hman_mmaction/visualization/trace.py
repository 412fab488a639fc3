"""What HM-AN computed on one video, as numpy arrays and JSON.

:class:`HMANTrace` is read from the ``ActionDataSample`` that
:func:`hman_mmaction.apis.inference_hman` returns (head extras + geometry
metainfo) and is what every figure, the annotated video and the JSON are
drawn from.
"""
import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from .segments import class_name, segments_from_boundaries

EXTRA_FIELDS = ('attention_map', 'boundaries', 'step_scores')


def _numpy(value):
    if value is None:
        return None
    if hasattr(value, 'detach'):
        value = value.detach().cpu().float().numpy()
    return np.asarray(value)


@dataclass
class HMANTrace:
    """One view of one video.

    Attributes:
        attention: ``[T, h, w]`` the attention weights used at every step
            (one-hot for hard attention).
        boundaries: ``[L, T]`` the boundary decisions ``z`` (0/1).
        step_scores: ``[T, C]`` per-step class probabilities.
        pred_score: ``[C]`` the video's class probabilities.
        frame_inds: ``[T]`` frame of the original video read at each step.
        total_frames, fps: of the original video.
        tau_attention: ``[T]`` or None; tau_boundary: ``[L, T]`` or None
            (NaN where a layer has no temperature).
        crop_quadruple: ``(x, y, w, h)`` of the model input in the original
            frame, as shares of its width/height.
        flip: None, ``'horizontal'`` or ``'vertical'``.
    """
    attention: np.ndarray
    boundaries: np.ndarray
    step_scores: np.ndarray
    pred_score: np.ndarray
    frame_inds: np.ndarray
    total_frames: int
    fps: float
    tau_attention: Optional[np.ndarray] = None
    tau_boundary: Optional[np.ndarray] = None
    crop_quadruple: Sequence[float] = (0.0, 0.0, 1.0, 1.0)
    flip: Optional[str] = None
    class_names: Optional[List[str]] = field(default=None)

    @classmethod
    def from_sample(cls, sample, class_names=None) -> 'HMANTrace':
        """Build from an ``ActionDataSample`` with the head's extras."""
        missing = [name for name in EXTRA_FIELDS if name not in sample]
        if missing:
            raise ValueError(
                f'the prediction has no {missing}: run the model with the '
                'head\'s test_cfg.return_extras=True (inference_hman does)')
        meta = sample.metainfo
        attention = _numpy(sample.attention_map)
        if attention.ndim != 3:
            raise ValueError(
                f'attention_map has shape {attention.shape}, expected '
                '[T, H, W] of one view: use a single-view pipeline '
                '(one clip, one crop), e.g. the config\'s val pipeline')
        steps = attention.shape[0]
        frame_inds = np.asarray(meta.get('frame_inds', np.arange(steps)))
        frame_inds = frame_inds.reshape(-1).astype(int)
        if frame_inds.size != steps:
            raise ValueError(
                f'{frame_inds.size} frame indices for {steps} steps: the '
                'pipeline must sample one frame per step (clip_len=1, '
                'num_clips=num_segments)')
        flip = meta.get('flip_direction') if meta.get('flip') else None
        return cls(
            attention=attention,
            boundaries=_numpy(sample.boundaries),
            step_scores=_numpy(sample.step_scores),
            pred_score=_numpy(sample.pred_score),
            frame_inds=frame_inds,
            total_frames=int(meta.get('total_frames', frame_inds[-1] + 1)),
            fps=float(meta.get('avg_fps', 30.0)),
            tau_attention=_numpy(sample.get('tau_attention')),
            tau_boundary=_numpy(sample.get('tau_boundary')),
            crop_quadruple=tuple(
                float(v) for v in meta.get('crop_quadruple', (0, 0, 1, 1))),
            flip=flip,
            class_names=list(class_names) if class_names else None)

    # ------------------------------------------------------------ shapes
    @property
    def num_steps(self) -> int:
        return self.attention.shape[0]

    @property
    def num_layers(self) -> int:
        return self.boundaries.shape[0]

    @property
    def hard_attention(self) -> bool:
        """Every step's weights are one-hot (``GumbelHardAttention``)."""
        flat = self.attention.reshape(self.num_steps, -1)
        return bool(
            np.all((flat == 0) | (flat == 1)) and np.allclose(flat.sum(1), 1))

    def attended_cells(self) -> List[List[int]]:
        """``[row, col]`` of the largest weight at every step."""
        width = self.attention.shape[2]
        flat = self.attention.reshape(self.num_steps, -1).argmax(1)
        return [[int(i // width), int(i % width)] for i in flat]

    def attention_entropy(self) -> np.ndarray:
        """``[T]`` entropy of the weights, in nats (``log K`` = uniform)."""
        flat = self.attention.reshape(self.num_steps, -1).astype(np.float64)
        return 0.0 - (flat * np.log(np.clip(flat, 1e-12, None))).sum(1)

    def label(self, index: int) -> str:
        return class_name(index, self.class_names)

    def step_predictions(self) -> List[dict]:
        out = []
        for t, scores in enumerate(self.step_scores):
            k = int(scores.argmax())
            out.append(
                dict(
                    step=t,
                    class_index=k,
                    class_name=self.label(k),
                    score=float(scores[k])))
        return out

    def segments(self, layer: int = -1) -> List[dict]:
        """Segments implied by ``layer``'s boundaries (default: top)."""
        return segments_from_boundaries(self.boundaries[layer],
                                        self.frame_inds, self.total_frames,
                                        self.fps, self.step_scores,
                                        self.class_names)

    def step_of_frame(self, frame: int) -> int:
        """The step whose frame span holds ``frame`` (see
        :mod:`.segments`)."""
        return max(
            0,
            int(np.searchsorted(self.frame_inds, frame, side='right')) - 1)

    # -------------------------------------------------------------- json
    def to_dict(self) -> dict:
        k = int(self.pred_score.argmax())
        return dict(
            num_steps=self.num_steps,
            num_layers=self.num_layers,
            feature_grid=list(self.attention.shape[1:]),
            total_frames=self.total_frames,
            fps=self.fps,
            frame_inds=[int(i) for i in self.frame_inds],
            step_times=[round(int(i) / self.fps, 4) for i in self.frame_inds],
            crop_quadruple=list(self.crop_quadruple),
            flip=self.flip,
            hard_attention=self.hard_attention,
            class_names=self.class_names,
            prediction=dict(
                class_index=k,
                class_name=self.label(k),
                score=float(self.pred_score[k])),
            attention=_jsonable(self.attention),
            attended_cells=self.attended_cells(),
            attention_entropy=_jsonable(self.attention_entropy()),
            max_attention_entropy=math.log(self.attention[0].size),
            boundaries=_jsonable(self.boundaries.astype(int)),
            tau_attention=_jsonable(self.tau_attention),
            tau_boundary=_jsonable(self.tau_boundary),
            step_scores=_jsonable(self.step_scores),
            step_predictions=self.step_predictions(),
            segments=self.segments(-1),
            segments_per_layer=[
                self.segments(layer) for layer in range(self.num_layers)
            ])


def _jsonable(array):
    """Nested lists of floats; NaN (no temperature) becomes ``null``."""
    if array is None:
        return None
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.integer):
        return array.tolist()
    out = np.round(array.astype(np.float64), 6).astype(object)
    out[np.isnan(array.astype(np.float64))] = None
    return out.tolist()
