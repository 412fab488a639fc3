"""Frames sampled per video must be whole sequences of the head.

``HMANHead`` cuts the frames of one sample into views of ``num_segments``
consecutive frames, as mmaction2 lays out clips and crops. A pipeline whose
``SampleFrames`` takes ``clip_len x num_clips`` frames different from
``num_segments`` (e.g. ``num_clips=16`` for ``num_segments=8``) is cut
into partial "views" (here the first and the second half of the video),
scored as sequences and averaged: a silent wrong result.
:func:`check_sequence_views` refuses such a dataloader before it runs,
naming both numbers. (``twice_sample`` and crops multiply whole views and
are fine.)
"""
from typing import Optional

from mmengine.model import is_model_wrapper

SAMPLERS = ('SampleFrames', 'DenseSampleFrames')


def _head_segments(model) -> Optional[int]:
    if is_model_wrapper(model):
        model = model.module
    head = getattr(model, 'cls_head', None)
    from ..models.hman_head import HMANHead
    return head.num_segments if isinstance(head, HMANHead) else None


def _pipeline(dataloader) -> list:
    """The pipeline steps (config dicts or transforms) of a dataloader
    config or a built ``DataLoader``."""
    if isinstance(dataloader, dict):
        dataset = dataloader.get('dataset') or {}
        return list(dataset.get('pipeline') or []) if isinstance(
            dataset, dict) else []
    pipeline = getattr(getattr(dataloader, 'dataset', None), 'pipeline', None)
    return list(getattr(pipeline, 'transforms', []) or [])


def _sampler(step):
    """``(clip_len, num_clips)`` of a frame sampler step, else None."""
    if isinstance(step, dict):
        kind = str(step.get('type', '')).split('.')[-1]
        if kind in SAMPLERS:
            return step.get('clip_len', 1), step.get('num_clips', 1)
        return None
    if type(step).__name__ in SAMPLERS:
        return step.clip_len, step.num_clips
    return None


def check_sequence_views(model, dataloader, name: str) -> None:
    """Raise ``ValueError`` when ``dataloader`` (config or built) samples
    frames that are not whole sequences of ``model``'s ``HMANHead``."""
    segments = _head_segments(model)
    if segments is None or dataloader is None:
        return
    for step in _pipeline(dataloader):
        sampled = _sampler(step)
        if sampled is None:
            continue
        clip_len, num_clips = sampled
        frames = clip_len * num_clips
        if frames != segments:
            raise ValueError(
                f'{name}: SampleFrames takes clip_len x num_clips = '
                f'{clip_len} x {num_clips} = {frames} frames per view but '
                f'the head (HMANHead) reads sequences of num_segments='
                f'{segments} frames; the frames would be cut into partial '
                f'views of {segments} and their scores averaged. Make '
                f'clip_len x num_clips = {segments} in the {name} pipeline '
                f'(e.g. num_clips={segments}, clip_len=1), or train a model '
                f'with num_segments={frames}; twice_sample=True and crops '
                'add whole views.')
