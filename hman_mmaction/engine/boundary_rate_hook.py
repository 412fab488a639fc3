"""Sets ``BoundaryRateLoss(target_rate='auto')`` from the training data."""
from typing import Iterable, Sequence

import numpy as np
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..evaluation.boundary_metric import change_steps


def uniform_frame_inds(num_frames: int, steps: int) -> np.ndarray:
    """The centre frame of each of ``steps`` equal segments (``SampleFrames``
    in test mode with ``clip_len=1``)."""
    return ((np.arange(steps) + 0.5) * num_frames / steps).astype(np.int64)


def change_rate(segment_lists: Iterable[Sequence], steps: int) -> float:
    """Ground-truth changes per sampled step, ``sum_v |changes_v| / (T V)``,
    for videos with ``gt_segments`` ``[[start, end, motion], ...]`` sampled
    at ``steps`` uniform steps; raises when no video has segments."""
    changes, videos = 0, 0
    for segments in segment_lists:
        if not segments:
            continue
        num_frames = int(segments[-1][1])
        changes += len(
            change_steps(uniform_frame_inds(num_frames, steps), segments))
        videos += 1
    if videos == 0:
        raise ValueError('no training video has gt_segments')
    return changes / (steps * videos)


def _datasets(dataset):
    """The leaf datasets of (nested) wrappers."""
    inner = getattr(dataset, 'datasets', None)
    if inner is not None:
        for item in inner:
            yield from _datasets(item)
    elif hasattr(dataset, 'dataset'):
        yield from _datasets(dataset.dataset)
    else:
        yield dataset


def dataset_segments(dataset):
    """``gt_segments`` of every data info of ``dataset`` (None if absent)."""
    for leaf in _datasets(dataset):
        leaf.full_init()
        for index in range(len(leaf)):
            yield leaf.get_data_info(index).get('gt_segments')


@HOOKS.register_module()
class BoundaryRateFromDataHook(Hook):
    """Before training, sets the target of every ``BoundaryRateLoss`` with
    ``target_rate='auto'`` to the training set's ground-truth change rate per
    sampled step (:func:`change_rate` with the head's ``num_segments``) and
    logs it. A resumed or loaded checkpoint that already has a rate keeps
    it."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        head = getattr(model, 'cls_head', None)
        losses = getattr(head, 'losses', {})
        loss = losses['loss_boundary'] if 'loss_boundary' in losses else None
        if loss is None or not getattr(loss, 'auto', False):
            return
        if loss.target_rate.numel():
            runner.logger.info(
                f'boundary target rate kept: {loss.target_rate.tolist()}')
            return
        try:
            rate = change_rate(
                dataset_segments(runner.train_dataloader.dataset),
                head.num_segments)
        except ValueError as error:
            raise ValueError(
                "loss_boundary target_rate='auto' takes the change rate "
                f'from the training videos\' gt_segments, but {error}: use '
                'data with a <split>_segments.json sidecar '
                '(tools/data/make_synthetic_actions.py) or give '
                'target_rate as a number') from None
        loss.set_target_rate(rate)
        runner.logger.info(
            f'boundary target rate from the training data: {rate:.4f} '
            f'changes per sampled step (T={head.num_segments})')
