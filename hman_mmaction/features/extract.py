"""Run the frozen backbone of a recognizer config over dataset splits once
and write the feature maps into a :class:`~.store.FeatureStore`.

For every clip the config's own data pipeline and data preprocessor run as
in training/testing, then ``model.extract_feat(inputs, stage='backbone')``
of the recognizer (eval mode, no grad) gives ``[S, C, H, W]`` per clip (``S``
= all frames of all views the pipeline samples), stored as float16 by
default.

* ``train``: the train pipeline ``views`` = K times per video, each run
  seeded from ``(seed, split, video, view)`` (``random``, ``numpy`` and
  ``torch``), so the K samplings are reproducible and independent of the
  order or the resumption point.
* ``val`` / ``test``: their own (deterministic, ``test_mode``) pipelines,
  once per video.

Clips are written in order in fixed batches ``[0, B), [B, 2B), ...``; after
each batch the memmap is flushed and the manifest's ``complete`` counter is
replaced atomically. A restart (same command) continues at the first
uncommitted batch with the same batch boundaries, so the result is
byte-for-byte that of an uninterrupted run.
"""
import contextlib
import copy
import hashlib
import logging
import os.path as osp
import random
from typing import Callable, Iterator, Optional, Sequence

import numpy as np
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger, print_log
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.utils import ProgressBar

from ..evaluation.attention_metric import with_attention_meta_keys
from ..evaluation.boundary_metric import with_boundary_meta_keys
from .store import DTYPES, FeatureStore, sha256_of

SPLITS = ('train', 'val', 'test')


def plain(value):
    """ConfigDict / list structures -> plain Python (for JSON)."""
    if isinstance(value, (ConfigDict, dict)):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def load_config(config, cfg_options: Optional[dict] = None) -> Config:
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    return cfg


def state_dict_sha256(module: torch.nn.Module,
                      prefixes: Sequence[str] = ('', )) -> str:
    """sha256 over ``(name, dtype, shape, bytes)`` of every tensor of the
    state dict whose name starts with one of ``prefixes``, in name order:
    identical weights <=> identical hash."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        if not name.startswith(tuple(prefixes)):
            continue
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f'{name}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def logger_level(logger: logging.Logger, level: int) -> Iterator[None]:
    """Inside the block ``logger`` drops records below ``level`` (only that
    logger, nothing process-wide); its own level is restored afterwards."""
    previous = logger.level
    logger.setLevel(max(level, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(previous)


def build_frozen_backbone_model(cfg: Config,
                                checkpoint: Optional[str],
                                seed: int = 0) -> torch.nn.Module:
    """The config's recognizer in eval mode with the checkpoint's backbone
    and data preprocessor weights (or a seeded random init when
    ``checkpoint`` is None)."""
    if cfg.model.get('neck') is not None:
        raise ValueError(
            'feature caching supports recognizers without a neck; '
            f'model.neck={cfg.model.neck.get("type")} is set in the config')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'extract_feat') or not hasattr(model, 'backbone'):
        raise TypeError(f'{type(model).__name__} has no backbone to run; '
                        'give the end-to-end config (e.g. hman_demo.py), '
                        'not a cached-feature one')
    if checkpoint is None:
        # mmengine logs every initialised parameter at INFO level
        with logger_level(MMLogger.get_current_instance(), logging.WARNING):
            model.init_weights()
    else:
        loaded = _load_checkpoint(checkpoint, map_location='cpu')
        state = loaded.get('state_dict', loaded)
        state = {
            k[7:] if k.startswith('module.') else k: v
            for k, v in state.items()
        }
        wanted = {
            k: v
            for k, v in state.items()
            if k.startswith(('backbone.', 'data_preprocessor.'))
        }
        missing = [
            k for k in model.state_dict()
            if k.startswith('backbone.') and k not in wanted
        ]
        if missing:
            raise KeyError(
                f'checkpoint {checkpoint} has no weights for {len(missing)} '
                f'backbone entries of this config (first: {missing[0]}); is '
                'it a checkpoint of this config\'s model?')
        result = model.load_state_dict(wanted, strict=False)
        if result.unexpected_keys:
            raise KeyError(f'checkpoint {checkpoint} has backbone entries '
                           'this config does not: '
                           f'{result.unexpected_keys[:3]}')
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model


def record_seed(seed: int, split: str, video: int, view: int) -> int:
    text = f'{seed}/{split}/{video}/{view}'.encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], 'little')


class SeededRecords(torch.utils.data.Dataset):
    """Records ``start..`` of a split: record ``r`` is the dataset's sample
    of video ``r // views`` (its own checks included) with all RNGs seeded
    from ``(seed, split, video, view = r % views)``. A stand-in sample (a
    dataset that replaced an unreadable video by another one) is refused:
    its features would be stored under the wrong video."""

    def __init__(self, dataset, split: str, views: int, seed: int, start: int,
                 labels: list):
        self.dataset, self.split = dataset, split
        self.views, self.seed, self.start = views, seed, start
        self.labels = labels

    def __len__(self):
        return len(self.dataset) * self.views - self.start

    def __getitem__(self, index):
        video, view = divmod(self.start + index, self.views)
        value = record_seed(self.seed, self.split, video, view)
        random.seed(value)
        np.random.seed(value)
        torch.manual_seed(value)
        item = self.dataset[video]
        sample = item['data_samples']
        label = self.labels[video]
        if sample.metainfo.get('broken_video') or (
                isinstance(label, int) and 'gt_label' in sample
                and int(sample.gt_label) != label):
            name = self.dataset.get_data_info(video).get('filename', video)
            raise RuntimeError(
                f'the {self.split} dataset gave a stand-in sample for video '
                f'{video} ({name}), it is probably unreadable; fix it or '
                'remove its line from the annotation file, then extract '
                'again (stand-ins are not cached)')
        return item


def _relative_videos(dataset):
    """Video paths (relative to the data prefix), labels, ground-truth
    segments and boxes (``None`` without a sidecar), in order."""
    prefix = dataset.data_prefix.get('video', '') or ''
    videos, labels, segments, boxes = [], [], [], []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        name = info.get('filename', info.get('frame_dir', str(i)))
        videos.append(osp.relpath(name, prefix) if prefix else name)
        label = info.get('label', -1)
        labels.append(label.tolist() if hasattr(label, 'tolist') else label)
        segments.append(info.get('gt_segments'))
        boxes.append(info.get('gt_boxes'))
    return videos, labels, segments, boxes


def _box_geometry(samples, frames: Optional[int] = None) -> np.ndarray:
    """``[N, S, 8]`` float32 ``box_geometry`` of packed samples (0 where
    absent)."""
    rows = [
        np.asarray(
            s.metainfo.get('box_geometry', np.zeros((0, 8))),
            np.float32).reshape(-1, 8) for s in samples
    ]
    frames = max(len(r) for r in rows) if frames is None else frames
    out = np.zeros((len(rows), frames, 8), np.float32)
    for row, geometry in zip(out, rows):
        if len(geometry) == frames:
            row[:] = geometry
    return out


def _frame_inds(samples, length: Optional[int] = None) -> np.ndarray:
    """``[N, S]`` int32 ``frame_inds`` of packed samples (-1 if absent)."""
    rows = [
        np.asarray(s.metainfo.get('frame_inds', []), np.int32).reshape(-1)
        for s in samples
    ]
    length = max(len(r) for r in rows) if length is None else length
    out = np.full((len(rows), length), -1, np.int32)
    for row, inds in zip(out, rows):
        if len(inds) == length:
            row[:] = inds
    return out


def extract_split(model,
                  cfg: Config,
                  store: FeatureStore,
                  split: str,
                  views: int = 1,
                  seed: int = 0,
                  batch_size: int = 8,
                  num_workers: int = 0,
                  progress: bool = True,
                  on_commit: Optional[Callable[[int, int], None]] = None):
    """Extract (or resume) one split into ``store``; returns its manifest
    entry. ``on_commit(complete, total)`` is called after every commit."""
    loader_cfg = cfg.get(f'{split}_dataloader')
    if loader_cfg is None:
        raise KeyError(f'the config has no {split}_dataloader to extract')
    dataset_cfg = loader_cfg.dataset.copy()
    if split != 'train':
        views = 1
    pipeline = plain(dataset_cfg.get('pipeline', []))
    # the packed samples carry frame_inds and box_geometry (stored for
    # BoundaryMetric and AttentionMetric); the features and the
    # fingerprint do not change
    dataset_cfg = copy.deepcopy(dataset_cfg)
    with_boundary_meta_keys(dataset_cfg.get('pipeline', []))
    with_attention_meta_keys(dataset_cfg.get('pipeline', []))
    dataset = DATASETS.build(dataset_cfg)
    videos, labels, segments, boxes = _relative_videos(dataset)
    fingerprint = dict(
        pipeline=pipeline,
        data=sha256_of([videos, labels]),
        views=views,
        seed=seed)
    description = dict(
        views=views,
        batch_size=batch_size,
        num_videos=len(videos),
        videos=videos,
        labels=labels,
        segments=segments,
        pipeline=pipeline,
        ann_file=dataset_cfg.get('ann_file'),
        config_sha256=sha256_of([
            store.manifest['fingerprint']['backbone'],
            store.manifest['fingerprint']['data_preprocessor'], pipeline
        ]),
        layout='record = video * views + view; record [T, C, H, W]')
    info = store.begin_split(split, fingerprint,
                             len(videos) * views, description)
    if info['complete'] == 0 and any(b is not None for b in boxes):
        store.write_boxes(split, boxes)
    total, start = info['num_records'], info['complete']
    if start == total:
        print_log(
            f'[{split}] complete in {store.root}: {total} clips, '
            f'{info["record_shape"]}',
            logger='current')
        return info
    batch_size = info['batch_size']  # resume with the original boundaries
    records = SeededRecords(dataset, split, views, seed, start, labels)
    loader = torch.utils.data.DataLoader(
        records,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=pseudo_collate)
    resuming = f', resuming at clip {start}' if start else ''
    print_log(
        f'[{split}] {len(videos)} videos x {views} view(s) = {total} '
        f'clips{resuming}',
        logger='current')
    bar = ProgressBar(total - start) if progress else None
    array, inds, geometry, done = None, None, None, start
    dtype = torch.float16 if store.manifest['fingerprint'][
        'dtype'] == 'float16' else torch.float32
    for batch in loader:
        with torch.no_grad():
            data = model.data_preprocessor(batch, False)
            feats, _ = model.extract_feat(data['inputs'], stage='backbone')
        count = len(data['data_samples'])
        if feats.dim() != 4:
            raise ValueError(
                f'the backbone gave features of shape {tuple(feats.shape)}; '
                'only 2D backbones ([N*T, C, H, W], Recognizer2D) are cached')
        feats = feats.reshape((count, -1) + feats.shape[1:]).to(dtype)
        if array is None:
            array = store.records_for_write(split, feats.shape[1:])
            inds = store.frame_inds_for_write(
                split,
                _frame_inds(data['data_samples']).shape[1])
            geometry = store.geometry_for_write(
                split,
                _box_geometry(data['data_samples']).shape[1])
        if tuple(feats.shape[1:]) != array.shape[1:]:
            raise ValueError(
                f'clip {done} of {split} gives features '
                f'{tuple(feats.shape[1:])}, the others {array.shape[1:]}: '
                'every clip must sample the '
                'same number of frames (fixed SampleFrames num_clips)')
        array[done:done + count] = feats.cpu().numpy()
        inds[done:done + count] = _frame_inds(data['data_samples'],
                                              inds.shape[1])
        geometry[done:done + count] = _box_geometry(data['data_samples'],
                                                    geometry.shape[1])
        done += count
        store.commit(split, array, done, inds, geometry)
        if bar is not None:
            bar.update(count)
        if on_commit is not None:
            on_commit(done, total)
    if bar is not None:
        bar.file.write('\n')  # ProgressBar leaves its line open
        bar.file.flush()
    return store.manifest['splits'][split]


def extract_features(config,
                     checkpoint: Optional[str],
                     out: str,
                     splits: Sequence[str] = SPLITS,
                     views: int = 1,
                     seed: int = 0,
                     batch_size: int = 8,
                     dtype: str = 'float16',
                     num_workers: int = 0,
                     cfg_options: Optional[dict] = None,
                     progress: bool = True,
                     on_commit: Optional[Callable[[int, int], None]] = None
                     ) -> FeatureStore:
    """Extract ``splits`` of ``config`` with ``checkpoint``'s backbone into
    the store ``out`` (created, or resumed / extended if it was made by the
    same backbone, preprocessor and pipelines). See the module doc."""
    if dtype not in DTYPES:
        raise ValueError(f'dtype must be one of {DTYPES}, got {dtype!r}')
    if views < 1:
        raise ValueError(f'views must be >= 1, got {views}')
    cfg = load_config(config, cfg_options)
    model = build_frozen_backbone_model(cfg, checkpoint, seed)
    if checkpoint is None:
        pretrained = cfg.model.backbone.get('pretrained', None)
        source = (f'its config init ({pretrained})'
                  if pretrained else f'random (seed {seed}) weights')
        print_log(
            f'no checkpoint given: the backbone has {source}',
            logger='current',
            level=logging.WARNING)
    fingerprint = dict(
        weights_sha256=state_dict_sha256(model,
                                         ('backbone.', 'data_preprocessor.')),
        backbone=plain(cfg.model.backbone),
        data_preprocessor=plain(cfg.model.get('data_preprocessor')),
        model_type=str(cfg.model.type),
        dtype=dtype)
    provenance = dict(
        config=config if isinstance(config, str) else config.filename,
        checkpoint=checkpoint,
        checkpoint_file_sha256=file_sha256(checkpoint) if checkpoint else None)
    store = FeatureStore(out)
    store.begin(fingerprint, provenance)
    for split in splits:
        if split not in SPLITS:
            raise ValueError(f'unknown split {split!r}; use {SPLITS}')
        extract_split(
            model,
            cfg,
            store,
            split,
            views=views,
            seed=seed,
            batch_size=batch_size,
            num_workers=num_workers,
            progress=progress,
            on_commit=on_commit)
    return store
