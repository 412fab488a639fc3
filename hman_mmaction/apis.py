"""Inference on one video with what HM-AN computed on the way.

mmaction2's own API works on every HM-AN config unchanged::

    from mmaction.apis import inference_recognizer, init_recognizer
    model = init_recognizer('configs/hman_demo.py', 'best.pth', device='cpu')
    sample = inference_recognizer(model, 'video.mp4')   # sample.pred_score

(it uses the config's ``test_pipeline``: for the demo config two views).
:func:`inference_hman` is the same call, but

* it asks the head for its extras (``test_cfg.return_extras=True``, only for
  this call): ``attention_map`` ``[T, H, W]``, ``boundaries`` ``[L, T]``,
  ``step_scores`` ``[T, num_classes]`` and the temperatures;
* it uses a *single-view* pipeline by default (:func:`single_view_pipeline`:
  the config's validation pipeline) so those maps belong to one sequence;
* it keeps in ``sample.metainfo`` what is needed to place the maps back on
  the original video: ``frame_inds``, ``total_frames``, ``avg_fps``,
  ``original_shape``, ``img_shape``, ``crop_quadruple``, ``flip``,
  ``flip_direction``.
"""
import copy
import os.path as osp
from typing import Optional, Union

import torch.nn as nn
from mmaction.apis import inference_recognizer
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from .engine.view_check import check_sequence_views
from .models.hman_head import HMANHead

#: metainfo the visualisation needs to map maps and steps back to the video.
GEOMETRY_META_KEYS = ('frame_inds', 'total_frames', 'avg_fps',
                      'original_shape', 'img_shape', 'crop_quadruple', 'flip',
                      'flip_direction', 'clip_len', 'num_clips',
                      'frame_interval')


def check_hman_config(cfg: Config, source: str = 'config') -> None:
    """Raise a ``ValueError`` naming the key when ``model.cls_head`` is not an
    :class:`HMANHead` (or a subclass)."""
    head = cfg.get('model', {}).get('cls_head')
    if head is None:
        raise ValueError(f'{source}: model.cls_head is missing; '
                         'visualize_hman needs a Recognizer2D with an '
                         "cls_head=dict(type='HMANHead', ...)")
    head_type = head.get('type')
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    cls = head_type if isinstance(head_type, type) else MODELS.get(head_type)
    if cls is None or not issubclass(cls, HMANHead):
        raise ValueError(
            f'{source}: model.cls_head.type is {head_type!r}, not HMANHead: '
            'attention maps and boundaries exist only for HM-AN models. Use '
            "an HM-AN config (cls_head=dict(type='HMANHead', ...)), or "
            "mmaction2's inference_recognizer for other recognizers.")


def hman_head(model: nn.Module) -> HMANHead:
    """The model's :class:`HMANHead`, or a ``ValueError`` saying what it is."""
    head = getattr(model, 'cls_head', None)
    if not isinstance(head, HMANHead):
        raise ValueError(
            f'the model\'s cls_head is {type(head).__name__}, not HMANHead: '
            'inference_hman needs an HM-AN recognizer (one whose config has '
            "cls_head=dict(type='HMANHead', ...)); use mmaction2's "
            'inference_recognizer for other recognizers')
    return head


def single_view_pipeline(cfg: Config) -> list:
    """The config's validation pipeline (one clip of ``num_segments`` frames,
    one crop), with ``PackActionInputs`` also keeping
    :data:`GEOMETRY_META_KEYS`.

    Taken from ``val_dataloader.dataset.pipeline``, else the top-level
    ``val_pipeline``, else ``test_pipeline``.
    """
    pipeline = None
    loader = cfg.get('val_dataloader') or {}
    dataset = loader.get('dataset') if isinstance(loader, dict) else None
    if isinstance(dataset, dict) and dataset.get('pipeline'):
        pipeline = dataset['pipeline']
    for key in ('val_pipeline', 'test_pipeline'):
        if pipeline is None and cfg.get(key):
            pipeline = cfg[key]
    if pipeline is None:
        raise ValueError('the config has no val_dataloader.dataset.pipeline,'
                         ' val_pipeline or test_pipeline to read the video '
                         'with')
    return with_geometry_meta(pipeline)


def with_geometry_meta(pipeline: list) -> list:
    """A copy of ``pipeline`` whose ``PackActionInputs`` keeps
    :data:`GEOMETRY_META_KEYS` besides its own ``meta_keys``."""
    pipeline = copy.deepcopy(list(pipeline))
    for step in pipeline:
        if step.get('type') in ('PackActionInputs',
                                'mmaction.PackActionInputs'):
            keys = tuple(
                step.get('meta_keys',
                         ('img_shape', 'img_key', 'video_id', 'timestamp')))
            step['meta_keys'] = keys + tuple(
                k for k in GEOMETRY_META_KEYS if k not in keys)
            return pipeline
    raise ValueError('the pipeline has no PackActionInputs step: '
                     f'{[step.get("type") for step in pipeline]}')


def inference_hman(model: nn.Module,
                   video: Union[str, dict],
                   return_extras: bool = True,
                   test_pipeline: Optional[Union[Compose, list]] = None
                   ) -> ActionDataSample:
    """``inference_recognizer`` for HM-AN models, with the head's extras.

    Args:
        model: from ``mmaction.apis.init_recognizer`` (has ``model.cfg``).
        video: a video file path or a pipeline input dict.
        return_extras: attach ``attention_map``, ``boundaries``,
            ``step_scores``, ``tau_attention``, ``tau_boundary`` to the
            result (the head's ``test_cfg`` is restored afterwards).
        test_pipeline: a pipeline (list of transform configs or ``Compose``);
            defaults to :func:`single_view_pipeline` of ``model.cfg``.

    Returns:
        ``ActionDataSample`` with ``pred_score``, the extras, and the
        geometry in ``metainfo``.
    """
    head = hman_head(model)
    if isinstance(video, str) and not osp.isfile(video):
        raise FileNotFoundError(f'video not found: {video}')
    init_default_scope(model.cfg.get('default_scope', 'mmaction'))
    if test_pipeline is None:
        test_pipeline = single_view_pipeline(model.cfg)
    steps = (
        test_pipeline.transforms
        if isinstance(test_pipeline, Compose) else test_pipeline)
    check_sequence_views(model, dict(dataset=dict(pipeline=steps)),
                         'test_pipeline')
    if not isinstance(test_pipeline, Compose):
        test_pipeline = Compose(test_pipeline)
    saved = head.test_cfg
    head.test_cfg = dict(saved, return_extras=return_extras)
    try:
        return inference_recognizer(model, video, test_pipeline)
    finally:
        head.test_cfg = saved
