"""Boundary precision / recall / F1 of the HM-LSTM layers against the
ground-truth motion changes of the synthetic actions.

Ground truth. A video's segments are ``[[start, end, motion], ...]``
(frames, ``end`` exclusive; ``<split>_segments.json``, see
:mod:`hman_mmaction.datasets.synthetic_actions`). Its motion changes at
frame ``f`` = the ``start`` of every segment but the first. A view samples
the frames ``frame_inds[0..T-1]`` (ascending); the change lies **at step**

    t(f) = min { t : frame_inds[t] >= f },

the first sampled step that sees the new motion. A change after the last
sampled frame (no such t) or at t = 0 (the view never sees the old motion)
is not visible in the view and dropped; changes falling on the same step
(a motion shorter than the sampling gap) count once.

Detections. Layer l's boundary z_t^l = 1 at step t. The window scores a
boundary one step early (t - 1), at the first new step (t) or one step
late (t + 1) as right, whatever the timing. So with tolerance w = 1:

    a boundary at s and a change at t match iff |s - t| <= w,

each boundary and each change matched at most once, and TP = the size of
a maximum matching. It is computed greedily in time order (every change,
earliest first, takes the earliest unmatched boundary of its window): for
windows of equal width this greedy matching is a maximum one. Counts are
summed over views and videos (micro average):

    precision = TP / #boundaries,  recall = TP / #changes,
    F1 = 2 TP / (#boundaries + #changes)          (0 when a count is 0),
    rate = #boundaries / #steps.

Exact scores: the step a boundary must take for the right FLUSH / UPDATE
depends on the timing (``HMLSTM.boundary_offset``: the last step of the old
motion, ``t - 1``, for ``timing='post'``; the change step ``t`` for
``'pre'``); ``l{l}_exact_*`` count a boundary at exactly ``t + offset``
(tolerance 0), which the +-1 window cannot tell apart.

Timing prior: a content-free detector that fires, in every view, as many
boundaries as the layer fired there at the steps where changes (at the
offset) are most frequent over all scored views. Where changes sit at
predictable steps it beats the random detector without looking at the
video, so a detector that sees the change must beat the prior.

Random baseline: per view and layer, the same number of boundaries as the
layer fired there, placed uniformly without replacement on the view's T
steps (rate-matched per view); its P / R / F1 are averaged over
``random_draws`` draws of a generator seeded by ``seed`` (deterministic).
A layer that never fires (the top layer, which has no detector) has rate 0
and P = R = F1 = 0, as its baseline.

Views. With several views per video (``boundaries`` ``[V, L, T]``, e.g.
``twice_sample`` clips x crops) every view is scored with its own frame
indices: view v uses block ``v mod (len(frame_inds) / T)`` of
``frame_inds`` (mmaction2 lays views out clip-major, crops repeating the
clips' frames); ``views='first'`` scores view 0 only.
"""
import logging
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from ..models.segment_targets import change_steps
from .config_setup import append_evaluator, extras_head, return_extras

VIEW_CHOICES = ('all', 'first')
META_KEYS = ('frame_inds', 'gt_segments')


def match_count(boundaries: np.ndarray,
                changes: Sequence[int],
                tolerance: int = 1) -> np.ndarray:
    """Size of the maximum matching (module doc) between the boundaries
    ``[..., T]`` (0/1; leading axes are independent sequences) and the
    change steps; returns ``[...]`` integers."""
    free = np.asarray(boundaries).astype(bool).copy()
    count = np.zeros(free.shape[:-1], np.int64)
    steps = free.shape[-1]
    for change in sorted(changes):
        taken = np.zeros(free.shape[:-1], bool)
        for step in range(change - tolerance, change + tolerance + 1):
            if 0 <= step < steps:
                take = free[..., step] & ~taken
                free[..., step] &= ~take
                taken |= take
        count += taken
    return count


def _prf(tp: float, detected: float, changes: float) -> Dict[str, float]:
    return dict(
        precision=tp / detected if detected else 0.0,
        recall=tp / changes if changes else 0.0,
        f1=2 * tp / (detected + changes) if detected + changes else 0.0)


def _views(boundaries, frame_inds, views: str):
    """``(z [L, T], frame_inds [T])`` of every scored view of a sample."""
    z = np.asarray(boundaries, dtype=np.float32)
    if z.ndim == 2:
        z = z[None]
    if z.ndim != 3:
        raise ValueError(f'boundaries must be [L, T] or [views, L, T], got '
                         f'shape {z.shape}')
    steps = z.shape[-1]
    inds = np.asarray(frame_inds).reshape(-1)
    if len(inds) < steps or len(inds) % steps:
        raise ValueError(
            f'frame_inds has {len(inds)} entries, not a multiple of the '
            f'{steps} steps of the boundaries; sample one frame per segment '
            '(SampleFrames clip_len=1, num_clips=num_segments)')
    blocks = inds.reshape(-1, steps)
    count = 1 if views == 'first' else len(z)
    return [(z[v] > 0.5, blocks[v % len(blocks)]) for v in range(count)]


def _prior_order(views_changes, steps: int, offset: int) -> np.ndarray:
    """Steps ranked by how often a change needs a boundary there (change
    step + ``offset``) over all scored views, most frequent first (ties:
    earlier step first): the content-free timing prior."""
    counts = np.zeros(steps)
    for changes in views_changes:
        for t in changes:
            if 0 <= t + offset < steps:
                counts[t + offset] += 1
    return np.lexsort((np.arange(steps), -counts))


def boundary_scores(boundaries: Sequence,
                    frame_inds: Sequence,
                    segments: Sequence,
                    tolerance: int = 1,
                    random_draws: int = 100,
                    seed: int = 0,
                    views: str = 'all',
                    offset: int = -1) -> Dict[str, float]:
    """Boundary P / R / F1 and rates per layer (see the module doc).

    Args:
        boundaries: per video ``[L, T]`` or ``[V, L, T]`` (0/1; numpy or
            torch), e.g. the ``boundaries`` the HM-AN head attaches with
            ``test_cfg=dict(return_extras=True)``.
        frame_inds: per video the sampled frame indices (``[T]`` or
            ``[V' * T]``), mmaction2's ``SampleFrames`` ``frame_inds``.
        segments: per video ``[[start, end, motion], ...]``.
        tolerance (int): the matching window in sampled steps. Default 1.
        random_draws (int): draws of the rate-matched random detector.
        seed (int): seed of those draws.
        views (str): ``'all'`` (default) scores every view, ``'first'``
            view 0 only.
        offset (int): the step, relative to the change step, where the
            model's timing needs the boundary (``HMLSTM.boundary_offset``:
            -1 for ``timing='post'``, 0 for ``'pre'``): the exact scores
            count a boundary there only. Default -1.

    Returns:
        dict: per layer l = 1..L ``l{l}_precision``, ``l{l}_recall``,
        ``l{l}_f1``, ``l{l}_rate``; ``l{l}_exact_{precision,recall,f1}``
        (tolerance 0 at ``offset``); the rate-matched random detector's
        ``l{l}_random_{precision,recall,f1}``; the timing prior's
        ``l{l}_prior_f1`` (content-free: in every view, as many boundaries
        as the layer fired there, at the steps where changes are most
        frequent over the scored views) and ``l{l}_prior_exact_f1``; and
        ``change_rate`` (ground-truth changes per step), ``views`` (how
        many were scored).
    """
    if views not in VIEW_CHOICES:
        raise ValueError(f'views must be one of {VIEW_CHOICES}, got '
                         f'{views!r}')
    if not (len(boundaries) == len(frame_inds) == len(segments)):
        raise ValueError(f'got {len(boundaries)} boundaries, '
                         f'{len(frame_inds)} frame_inds and {len(segments)} '
                         'segments; one of each per video')
    scored = []  # (z [L, T], change steps) per view
    for z_video, inds, segs in zip(boundaries, frame_inds, segments):
        if hasattr(z_video, 'detach'):
            z_video = z_video.detach().cpu().numpy()
        for z, view_inds in _views(z_video, inds, views):
            scored.append((z, change_steps(view_inds, segs)))
    if not scored:
        raise ValueError('boundary_scores got no video to score')
    layers, steps = scored[0][0].shape
    prior = _prior_order([changes for _, changes in scored], steps, offset)
    rng = np.random.default_rng(seed)
    # tp, detected, random tp, exact tp, prior tp, prior exact tp
    totals = np.zeros((layers, 6))
    steps_total = changes_total = 0
    for z, changes in scored:
        exact = [t + offset for t in changes if 0 <= t + offset < z.shape[1]]
        fired = z.sum(-1).astype(int)  # [L]
        totals[:, 0] += match_count(z, changes, tolerance)
        totals[:, 1] += fired
        totals[:, 3] += match_count(z, exact, 0)
        for layer, k in enumerate(fired):
            random = np.zeros((random_draws, z.shape[1]), bool)
            if k:
                order = rng.random((random_draws, z.shape[1])).argsort(-1)
                np.put_along_axis(random, order[:, :k], True, -1)
            totals[layer, 2] += match_count(random, changes, tolerance).mean()
            timing = np.zeros(z.shape[1], bool)
            timing[prior[:k]] = True
            totals[layer, 4] += match_count(timing, changes, tolerance)
            totals[layer, 5] += match_count(timing, exact, 0)
        steps_total += z.shape[1]
        changes_total += len(changes)
    metrics = dict(
        change_rate=changes_total / steps_total, views=float(len(scored)))
    for layer, row in enumerate(totals, 1):
        tp, detected, random_tp, exact_tp, prior_tp, prior_exact_tp = row
        for key, value in _prf(tp, detected, changes_total).items():
            metrics[f'l{layer}_{key}'] = value
        metrics[f'l{layer}_rate'] = detected / steps_total
        for key, value in _prf(exact_tp, detected, changes_total).items():
            metrics[f'l{layer}_exact_{key}'] = value
        # the random detector fires as often as the layer: same #detected
        for key, value in _prf(random_tp, detected, changes_total).items():
            metrics[f'l{layer}_random_{key}'] = value
        metrics[f'l{layer}_prior_f1'] = _prf(prior_tp, detected,
                                             changes_total)['f1']
        metrics[f'l{layer}_prior_exact_f1'] = _prf(prior_exact_tp, detected,
                                                   changes_total)['f1']
    return {key: float(value) for key, value in metrics.items()}


def _numpy(value):
    if hasattr(value, 'detach'):
        return value.detach().cpu().numpy()
    return np.asarray(value)


@METRICS.register_module()
class BoundaryMetric(BaseMetric):
    """Per-layer boundary precision / recall / F1, rate and the
    rate-matched random baseline (module doc), as ``boundary/l1_f1`` ...

    Needs per sample the head's ``boundaries``
    (``model.cls_head.test_cfg.return_extras=True``) and the metainfo keys
    ``frame_inds`` and ``gt_segments``
    (``PackActionInputs(meta_keys=(..., 'frame_inds', 'gt_segments'))``,
    ``gt_segments`` read from the sidecar by ``CheckedVideoDataset`` or
    ``CachedFeatureDataset``). :func:`enable_boundary_evaluation` (or
    ``tools/test.py --boundaries``) sets all three.

    Args:
        tolerance (int): matching window in sampled steps. Defaults to 1.
        random_draws (int): draws of the random baseline. Defaults to 100.
        seed (int): their seed. Defaults to 0.
        views (str): ``'all'`` (default) or ``'first'``.
        offset (int, optional): where the exact scores count a boundary,
            relative to the change step. Defaults to None: the
            predictions' ``boundary_offset`` (the head's timing; -1 where
            they carry none).
        collect_device, prefix: as mmengine's ``BaseMetric``.
    """
    default_prefix = 'boundary'

    def __init__(self,
                 tolerance: int = 1,
                 random_draws: int = 100,
                 seed: int = 0,
                 views: str = 'all',
                 offset: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if views not in VIEW_CHOICES:
            raise ValueError(f'BoundaryMetric views must be one of '
                             f'{VIEW_CHOICES}, got {views!r}')
        self.tolerance, self.random_draws = tolerance, random_draws
        self.seed, self.views, self.offset = seed, views, offset

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if sample.get('boundaries') is None:
                raise KeyError(
                    'BoundaryMetric: the prediction has no "boundaries"; set '
                    'model.cls_head.test_cfg=dict(return_extras=True) '
                    '(HMANHead), or run tools/test.py with --boundaries')
            for key in META_KEYS:
                if sample.get(key) is None:
                    where = ('the dataset found no <split>_segments.json '
                             'beside its ann_file (regenerate the data with '
                             'tools/data/make_synthetic_actions.py), or '
                             if key == 'gt_segments' else '')
                    raise KeyError(
                        f'BoundaryMetric: the sample has no metainfo key '
                        f'{key!r}: {where}add it to the test pipeline\'s '
                        "PackActionInputs meta_keys, e.g. meta_keys=("
                        "'img_shape', 'frame_inds', 'gt_segments'); "
                        'tools/test.py --boundaries does both')
            self.results.append(
                dict(
                    boundaries=_numpy(sample['boundaries']),
                    frame_inds=_numpy(sample['frame_inds']),
                    gt_segments=list(sample['gt_segments']),
                    offset=sample.get('boundary_offset')))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        offsets = {r.get('offset') for r in results} - {None}
        if self.offset is not None:
            offset = self.offset
        elif len(offsets) > 1:
            raise ValueError(f'BoundaryMetric: predictions of one model '
                             f'carry different boundary offsets {offsets}')
        else:
            offset = offsets.pop() if offsets else -1
        return boundary_scores([r['boundaries'] for r in results],
                               [r['frame_inds'] for r in results],
                               [r['gt_segments'] for r in results],
                               tolerance=self.tolerance,
                               random_draws=self.random_draws,
                               seed=self.seed,
                               views=self.views,
                               offset=offset)


def with_boundary_meta_keys(pipeline: list) -> int:
    """Add :data:`META_KEYS` (``frame_inds``, ``gt_segments``) to the
    ``meta_keys`` of every ``PackActionInputs`` of ``pipeline`` (a list of
    transform dicts, changed in place); returns how many were changed."""
    changed = 0
    for transform in pipeline:
        if transform.get('type') in ('PackActionInputs',
                                     'mmaction.PackActionInputs'):
            keys = tuple(
                transform.get('meta_keys', ('img_shape', 'img_key', 'video_id',
                                            'timestamp')))
            transform['meta_keys'] = keys + tuple(
                k for k in META_KEYS if k not in keys)
            changed += 1
    return changed


def boundary_detectors(head: dict) -> list:
    """Layers of the head config ``head`` that have a boundary detector
    (learned, oracle or random; none for ``NoBoundary`` or a one-layer
    stack): its recurrent stack is built to ask it."""
    from mmaction.registry import MODELS

    from ..models.boundary import NoBoundary
    rnn = MODELS.build(
        dict(head.get('rnn') or dict(type='HMLSTM')),
        default_args=dict(input_size=1))
    return [
        layer for layer, detector in enumerate(getattr(rnn, 'boundaries', []))
        if not isinstance(detector, NoBoundary)
    ]


def enable_boundary_evaluation(cfg, split: str = 'test', **metric_args):
    """Set up ``cfg`` (an mmengine ``Config``) for :class:`BoundaryMetric`
    on ``split`` (``'test'`` or ``'val'``): the head returns its extras,
    the split's ``PackActionInputs`` carries ``frame_inds`` and
    ``gt_segments``, and the metric is added to ``<split>_evaluator``.
    A ``CachedFeatureDataset`` without a pipeline already carries them.
    A head without a learned boundary detector (``NoBoundary``) gets no
    metric and a WARNING that says so. Returns ``cfg``."""
    head = extras_head(cfg, 'boundary')
    if not boundary_detectors(head):
        print_log(
            f'{split}: no boundary scores: this model has no '
            'boundary detector (rnn.boundary is '
            f'{head.get("rnn", {}).get("boundary", {}).get("type")!r}, '
            f'rnn.num_layers={head.get("rnn", {}).get("num_layers")}: an '
            'LSTM, e.g. the Att-LSTM baseline), so there is nothing for '
            'BoundaryMetric to score; testing without it. Drop '
            '--boundaries for this model.',
            logger='current',
            level=logging.WARNING)
        return cfg
    return_extras(head)
    dataset = cfg[f'{split}_dataloader']['dataset']
    pipeline = dataset.get('pipeline')
    if pipeline is not None and not with_boundary_meta_keys(pipeline):
        raise ValueError(f'{split}_dataloader.dataset.pipeline has no '
                         'PackActionInputs to carry frame_inds and '
                         'gt_segments')
    append_evaluator(cfg, split, dict(type='BoundaryMetric', **metric_args))
    return cfg
