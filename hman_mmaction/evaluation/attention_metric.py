"""Does the attention look at the actor? Scores of the attention maps
against the target's and the distractors' true boxes of the synthetic
actions (``<split>_boxes.json``,
:mod:`hman_mmaction.datasets.synthetic_actions`).

Boxes to cells. A box ``[x0, y0, x1, y1]`` lies in pixels of the video
frame (on the torus: :func:`box_pieces` cuts a box that passes the border).
Each piece is mapped into the model's input by the view's geometry
(``box_geometry``, :mod:`hman_mmaction.datasets.box_geometry`: resizes,
the test crop, flips), ``x' = s_x x + t_x``, and clipped to the input
``[0, w) x [0, h)``. The feature grid ``H x W`` (the attention map's
shape) has cells of ``stride`` pixels (the backbone's stride; default
``w / W`` and ``h / H``): cell ``(i, j)`` covers ``[j c_x, (j + 1) c_x) x
[i c_y, (i + 1) c_y)``. The **target's cells** ``M_t`` are the cells that
the target's box overlaps (positive area), the **distractors' cells**
``D_t`` those of any distractor's box.

Scores of a step with attention ``alpha`` over ``K = H W`` cells, each next
to the value of uniform attention ``alpha = 1 / K``:

    pointing        = |argmax alpha  &  M_t| / |argmax alpha|
                      (the peak is on the target; ties share the credit,
                      so uniform attention scores |M_t| / K)
    mass_target     = sum_{k in M_t} alpha_k             uniform |M_t| / K
    mass_distractors = sum_{k in D_t} alpha_k            uniform |D_t| / K
    mass_per_distractor = mean_d sum_{k in D_{t,d}} alpha_k   (one object,
                      comparable to mass_target)
    entropy         = -sum_k alpha_k log alpha_k / log K   (1 = uniform)

averaged over every scored step of every view and video (micro average);
``target_ratio = mass_target / its uniform value``. Hard attention (every
map one-hot): ``hard_on_target``, the share of the chosen locations on the
target (the pointing score of one-hot maps). A step whose target falls
outside the input (a crop) is not scored (``steps_without_target``).

Views: maps ``[V, T, H, W]`` are scored view by view with frame ``f =
frame_inds[(v T + t) mod len(frame_inds)]`` (mmaction2 lays out clips,
then crops repeating the clips' frames) and geometry row ``v T + t``.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric

from ..datasets.synthetic_actions import box_pieces
from .boundary_metric import VIEW_CHOICES, _numpy
from .config_setup import append_evaluator, extras_head, return_extras

META_KEYS = ('frame_inds', 'gt_boxes', 'box_geometry')
PACK_TYPES = ('PackActionInputs', 'mmaction.PackActionInputs')
SCORES = ('pointing', 'mass_target', 'mass_distractors', 'mass_per_distractor')


def _stride_pair(stride, geometry: np.ndarray,
                 grid: Tuple[int, int]) -> Tuple[float, float]:
    if stride is None:
        return geometry[4] / grid[1], geometry[5] / grid[0]
    if isinstance(stride, (int, float)):
        return float(stride), float(stride)
    return float(stride[0]), float(stride[1])


def box_cells(box: Sequence[float],
              geometry: Sequence[float],
              grid: Tuple[int, int],
              stride: Union[None, float,
                            Sequence[float]] = None) -> np.ndarray:
    """``[H, W]`` bool: the cells of the feature grid ``grid = (H, W)``
    that the video-frame box ``[x0, y0, x1, y1]`` overlaps after the view's
    ``geometry`` (a row of ``box_geometry``; see the module doc).
    ``stride``: the cell size in input pixels, one number or ``(x, y)``;
    default: input size / grid size."""
    geometry = np.asarray(geometry, np.float64)
    sx, sy, tx, ty, width, height, video_w, video_h = geometry
    cell_x, cell_y = _stride_pair(stride, geometry, grid)
    cells = np.zeros(grid, bool)
    for x0, y0, x1, y1 in box_pieces(box, video_w, video_h):
        xs = sorted((sx * x0 + tx, sx * x1 + tx))
        ys = sorted((sy * y0 + ty, sy * y1 + ty))
        xs = (max(xs[0], 0.0), min(xs[1], width))
        ys = (max(ys[0], 0.0), min(ys[1], height))
        if xs[1] <= xs[0] or ys[1] <= ys[0]:
            continue  # cropped away
        col = (int(np.floor(xs[0] / cell_x)),
               min(int(np.ceil(xs[1] / cell_x)), grid[1]))
        row = (int(np.floor(ys[0] / cell_y)),
               min(int(np.ceil(ys[1] / cell_y)), grid[0]))
        cells[row[0]:row[1], col[0]:col[1]] = True
    return cells


def step_scores(alpha: np.ndarray, target: np.ndarray,
                distractors: Sequence[np.ndarray]) -> Dict[str, float]:
    """The scores of one step (module doc) and their uniform values, for
    the map ``alpha`` ``[H, W]`` and the cell masks of the target and of
    each distractor."""
    alpha = np.asarray(alpha, np.float64)
    alpha = alpha / alpha.sum()
    cells = alpha.size
    peaks = alpha >= alpha.max() * (1 - 1e-6)
    union = np.zeros_like(target)
    for mask in distractors:
        union |= mask
    each = [alpha[m].sum() for m in distractors] or [0.0]
    each_uniform = [m.sum() / cells for m in distractors] or [0.0]
    nonzero = alpha[alpha > 0]
    return dict(
        pointing=(peaks & target).sum() / peaks.sum(),
        pointing_uniform=target.sum() / cells,
        mass_target=alpha[target].sum(),
        mass_target_uniform=target.sum() / cells,
        mass_distractors=alpha[union].sum(),
        mass_distractors_uniform=union.sum() / cells,
        mass_per_distractor=float(np.mean(each)),
        mass_per_distractor_uniform=float(np.mean(each_uniform)),
        entropy=float(-(nonzero * np.log(nonzero)).sum() /
                      np.log(cells)) if cells > 1 else 0.0,
        one_hot=float(alpha.max() > 1 - 1e-6))


def _maps(attention) -> np.ndarray:
    maps = _numpy(attention).astype(np.float64)
    if maps.ndim == 3:
        maps = maps[None]
    if maps.ndim != 4:
        raise ValueError('attention maps must be [T, H, W] or [views, T, H, '
                         f'W], got shape {maps.shape}')
    return maps


def attention_scores(attention: Sequence,
                     frame_inds: Sequence,
                     boxes: Sequence[dict],
                     geometry: Sequence,
                     stride=None,
                     views: str = 'all',
                     per_step: bool = True) -> Dict[str, float]:
    """Attention against the true boxes (see the module doc).

    Args:
        attention: per video ``[T, H, W]`` or ``[V, T, H, W]`` maps (the
            head's ``attention_map`` with ``return_extras=True``).
        frame_inds: per video the sampled frame indices ``[V' * T]``.
        boxes: per video ``{'target': [F boxes], 'distractors': [F lists
            of boxes]}`` (``<split>_boxes.json``, ``gt_boxes``).
        geometry: per video ``[S, 8]`` ``box_geometry`` (one row per
            output frame; rows are reused cyclically when ``S < V T``).
        stride: feature-grid cell size in input pixels (the backbone's
            stride), a number or ``(x, y)``; default input size / grid.
        views: ``'all'`` (default) or ``'first'``.
        per_step: also ``t{t}_pointing`` and ``t{t}_mass_target`` per step
            index ``t`` (0-based).

    Returns:
        dict: the scores and their ``*_uniform`` values, ``target_ratio``,
        ``distractor_ratio``, ``entropy``, ``steps``, ``views``,
        ``steps_without_target``, and ``hard_on_target`` when every map is
        one-hot.
    """
    if views not in VIEW_CHOICES:
        raise ValueError(f'views must be one of {VIEW_CHOICES}, got '
                         f'{views!r}')
    if not (len(attention) == len(frame_inds) == len(boxes) == len(geometry)):
        raise ValueError(
            f'got {len(attention)} attention maps, {len(frame_inds)} '
            f'frame_inds, {len(boxes)} boxes and {len(geometry)} geometries;'
            ' one of each per video')
    rows: List[Dict[str, float]] = []
    step_index: List[int] = []
    skipped = num_views = 0
    for maps, inds, video_boxes, rows_geometry in zip(attention, frame_inds,
                                                      boxes, geometry):
        maps = _maps(maps)
        inds = np.asarray(_numpy(inds)).reshape(-1)
        rows_geometry = np.asarray(_numpy(rows_geometry)).reshape(-1, 8)
        count, steps = (1
                        if views == 'first' else maps.shape[0]), maps.shape[1]
        grid = maps.shape[2:]
        for v in range(count):
            num_views += 1
            for t in range(steps):
                s = v * steps + t
                frame = int(inds[s % len(inds)])
                row = rows_geometry[s % len(rows_geometry)]
                target = box_cells(video_boxes['target'][frame], row, grid,
                                   stride)
                if not target.any():
                    skipped += 1
                    continue
                others = [
                    box_cells(box, row, grid, stride)
                    for box in video_boxes['distractors'][frame]
                ]
                rows.append(step_scores(maps[v, t], target, others))
                step_index.append(t)
    if not rows:
        raise ValueError('attention_scores got no step to score (no video, '
                         'or the target is outside every view)')
    keys = [k for k in rows[0] if k != 'one_hot']
    metrics = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    metrics['target_ratio'] = (
        metrics['mass_target'] / metrics['mass_target_uniform'])
    metrics['distractor_ratio'] = (
        metrics['mass_distractors'] / metrics['mass_distractors_uniform']
        if metrics['mass_distractors_uniform'] else 0.0)
    if all(r['one_hot'] for r in rows):
        metrics['hard_on_target'] = metrics['pointing']
    metrics.update(
        steps=float(len(rows)),
        views=float(num_views),
        steps_without_target=float(skipped))
    if per_step:
        step_index = np.asarray(step_index)
        for t in sorted(set(step_index.tolist())):
            chosen = [r for r, i in zip(rows, step_index) if i == t]
            for key in ('pointing', 'mass_target'):
                metrics[f't{t}_{key}'] = float(
                    np.mean([r[key] for r in chosen]))
    return metrics


@METRICS.register_module()
class AttentionMetric(BaseMetric):
    """Pointing-game hit rate and attention mass on the target's and the
    distractors' cells, each next to uniform attention (module doc), as
    ``attention/pointing`` ...

    Needs per sample the head's ``attention_map``
    (``model.cls_head.test_cfg.return_extras=True``) and the metainfo keys
    ``frame_inds``, ``gt_boxes`` (read from ``<split>_boxes.json`` by
    ``CheckedVideoDataset`` or from the feature store by
    ``CachedFeatureDataset``) and ``box_geometry`` (``RecordBoxGeometry``
    in the pipeline). :func:`enable_attention_evaluation` (or
    ``tools/test.py --attention``) sets all of them.

    Args:
        stride: the feature grid's cell size in input pixels (the
            backbone's stride, e.g. 8 for the demo's ResNet-18 stages,
            32 for ResNet-50); default input size / grid size.
        views (str): ``'all'`` (default) or ``'first'``.
        per_step (bool): also per step index. Defaults to True.
        collect_device, prefix: as mmengine's ``BaseMetric``.
    """
    default_prefix = 'attention'

    def __init__(self,
                 stride=None,
                 views: str = 'all',
                 per_step: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if views not in VIEW_CHOICES:
            raise ValueError(f'AttentionMetric views must be one of '
                             f'{VIEW_CHOICES}, got {views!r}')
        self.stride, self.views, self.per_step = stride, views, per_step

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if sample.get('attention_map') is None:
                raise KeyError(
                    'AttentionMetric: the prediction has no "attention_map"; '
                    'set model.cls_head.test_cfg=dict(return_extras=True) '
                    '(HMANHead), or run tools/test.py with --attention')
            for key in META_KEYS:
                if sample.get(key) is None:
                    where = {
                        'gt_boxes':
                        'the dataset found no <split>_boxes.json beside its '
                        'ann_file (regenerate the data with tools/data/'
                        'make_synthetic_actions.py, generator version >= 4),'
                        ' or ',
                        'box_geometry':
                        "the pipeline has no RecordBoxGeometry before "
                        'PackActionInputs, or '
                    }.get(key, '')
                    raise KeyError(
                        f'AttentionMetric: the sample has no metainfo key '
                        f'{key!r}: {where}add it to the test pipeline\'s '
                        'PackActionInputs meta_keys; tools/test.py '
                        '--attention (enable_attention_evaluation) does both')
            self.results.append(
                dict(
                    attention=_numpy(sample['attention_map']).astype(
                        np.float32),
                    frame_inds=_numpy(sample['frame_inds']),
                    gt_boxes=sample['gt_boxes'],
                    box_geometry=_numpy(sample['box_geometry'])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        return attention_scores([r['attention'] for r in results],
                                [r['frame_inds'] for r in results],
                                [r['gt_boxes'] for r in results],
                                [r['box_geometry'] for r in results],
                                stride=self.stride,
                                views=self.views,
                                per_step=self.per_step)


def with_attention_meta_keys(pipeline: list) -> int:
    """Put ``RecordBoxGeometry`` before every ``PackActionInputs`` of
    ``pipeline`` (transform dicts, changed in place) that lacks one and add
    :data:`META_KEYS` to its ``meta_keys``; returns how many were
    changed."""
    changed, index = 0, 0
    while index < len(pipeline):
        transform = pipeline[index]
        if transform.get('type') in PACK_TYPES:
            keys = tuple(
                transform.get('meta_keys', ('img_shape', 'img_key', 'video_id',
                                            'timestamp')))
            transform['meta_keys'] = keys + tuple(
                k for k in META_KEYS if k not in keys)
            before = pipeline[index - 1].get('type') if index else None
            if before not in ('RecordBoxGeometry', 'LoadCachedFeatures'):
                pipeline.insert(index,
                                type(transform)(type='RecordBoxGeometry'))
                index += 1
            changed += 1
        index += 1
    return changed


def enable_attention_evaluation(cfg, split: str = 'test', **metric_args):
    """Set up ``cfg`` (an mmengine ``Config``) for :class:`AttentionMetric`
    on ``split`` (``'test'`` or ``'val'``): the head returns its extras,
    the split's pipeline records the box geometry and its
    ``PackActionInputs`` carries ``frame_inds``, ``gt_boxes`` and
    ``box_geometry``, and the metric is added to ``<split>_evaluator``.
    A ``CachedFeatureDataset`` without a pipeline already carries them.
    Returns ``cfg``."""
    return_extras(extras_head(cfg, 'attention'))
    dataset = cfg[f'{split}_dataloader']['dataset']
    pipeline = dataset.get('pipeline')
    if pipeline is not None and not with_attention_meta_keys(pipeline):
        raise ValueError(f'{split}_dataloader.dataset.pipeline has no '
                         'PackActionInputs to carry frame_inds, gt_boxes '
                         'and box_geometry')
    append_evaluator(cfg, split, dict(type='AttentionMetric', **metric_args))
    return cfg
