"""Epoch time of head training from the feature cache against end to end
with the frozen backbone, on the same clips, measured side by side
(``tools/benchmark_cache.py``).

Both sides train the same HM-AN head (configs/_base_/models/hman_r50.py)
with ``model.train_step`` over one epoch of synthetic videos: end to end
(decode + frozen ResNet-50 + head) and cached (``CachedFeatureDataset`` +
head). Rounds alternate the two; :func:`measure` prints per size the
epoch times, their ratio, the extraction cost and the break-even,
:func:`run_cache_benchmark` every size against :data:`TARGETS`.
"""
import json
import os
import os.path as osp
import statistics
import tempfile
import time

import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from hman_mmaction.datasets.synthetic_actions import (SyntheticActionSpec,
                                                      generate_dataset,
                                                      stale_reason)
from hman_mmaction.features import extract_features
from ..runs import REPO

# issue 23: cached head training vs end to end with the frozen backbone
TARGETS = {224: 50.0, 112: 20.0}


def end_to_end_config(root: str, frames: int, batch_size: int) -> Config:
    """HM-AN on a frozen, randomly initialised ResNet-50 over ``root``."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'hman_demo.py'))
    r50 = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models', 'hman_r50.py'))
    model = r50.model
    model.backbone.update(pretrained=None, frozen_stages=4, norm_eval=True)
    model.cls_head.update(num_classes=cfg.num_classes, num_segments=frames)
    cfg.model = model
    pipeline = [
        dict(type='DecordInit'),
        dict(
            type='SampleFrames',
            clip_len=1,
            frame_interval=1,
            num_clips=frames,
            test_mode=True),
        dict(type='DecordDecode'),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs')
    ]
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(
            batch_size=batch_size, num_workers=0, persistent_workers=False)
        loader.dataset.update(
            ann_file=osp.join(root, f'{split}_list_videos.txt'),
            data_prefix=dict(video=osp.join(root, 'videos')),
            pipeline=pipeline)
    return cfg


def cached_config(e2e: Config, store: str) -> Config:
    cfg = e2e.copy()
    cfg.model = dict(
        type='CachedFeatureRecognizer',
        cls_head=e2e.model.cls_head,
        data_preprocessor=dict(type='ActionDataPreprocessor'))
    cfg.train_dataloader.dataset = dict(
        type='CachedFeatureDataset', store=store, split='train')
    return cfg


class Side:
    """A model, its optimiser and its training dataloader."""

    def __init__(self, cfg: Config):
        torch.manual_seed(0)
        self.model = MODELS.build(cfg.model)
        self.model.init_weights()
        self.model.train()
        self.optim = build_optim_wrapper(self.model, cfg.optim_wrapper)
        self.loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)

    def epoch(self) -> float:
        start = time.perf_counter()
        for data in self.loader:
            self.model.train_step(data, self.optim)
        return time.perf_counter() - start


def measure(args, size: int, work: str) -> dict:
    """Epoch times of both sides at frame side ``size`` (see module doc)."""
    root, store = osp.join(work,
                           f'data_{size}'), osp.join(work, f'store_{size}')
    spec = SyntheticActionSpec(size=size, num_frames=2 * args.frames)
    counts = dict(train=args.clips, val=0, test=0)
    if stale_reason(root, spec, counts, seed=0) is not None:
        generate_dataset(root, counts, spec, seed=0, progress=False)
    e2e_cfg = end_to_end_config(root, args.frames, args.batch_size)
    start = time.perf_counter()
    extract_features(
        e2e_cfg,
        None,
        store,
        splits=['train'],
        batch_size=args.batch_size,
        progress=False)
    extraction = time.perf_counter() - start
    sides = dict(
        end_to_end=Side(e2e_cfg), cached=Side(cached_config(e2e_cfg, store)))
    for side in sides.values():  # warm-up: one batch each
        side.model.train_step(next(iter(side.loader)), side.optim)
    times = {name: [] for name in sides}
    for round_ in range(args.rounds):
        for name, side in sides.items():
            times[name].append(side.epoch())
            print(
                f'{size}px round {round_ + 1}/{args.rounds} {name}: '
                f'{times[name][-1]:.2f} s/epoch',
                flush=True)
    e2e, cached = (statistics.median(times['end_to_end']),
                   statistics.median(times['cached']))
    result = dict(
        size=size,
        end_to_end=times['end_to_end'],
        cached=times['cached'],
        ratio=e2e / cached,
        ratio_min=min(times['end_to_end']) / min(times['cached']),
        extraction=extraction,
        break_even=extraction / max(e2e - cached, 1e-9))
    target = TARGETS.get(size)
    if target is not None:
        result.update(target=target, met=result['ratio'] >= target)
    side = (size + 31) // 32
    print('\n' + '=' * 70)
    print(f'{args.clips} clips x {args.frames} frames, {size}px, '
          f'ResNet-50 maps 2048x{side}x{side}, batch {args.batch_size}, '
          f'{args.threads} torch thread(s)')
    print(f'end-to-end, frozen backbone: {e2e:.2f} s/epoch (median of '
          f'{args.rounds}; min {min(times["end_to_end"]):.2f})')
    print(f'cached features:             {cached:.2f} s/epoch (min '
          f'{min(times["cached"]):.2f})')
    print(f'speed-up: {result["ratio"]:.1f}x (of the minima '
          f'{result["ratio_min"]:.1f}x); the one-time extraction '
          f'({extraction:.1f} s) pays for itself after '
          f'{result["break_even"]:.1f} epoch(s)')
    print('=' * 70)
    return result


def run_cache_benchmark(args):
    """Measure every ``args.size`` (see the module doc), print the table,
    write ``args.json``; ``args``: the flags of
    ``tools/benchmark_cache.py``. Returns the result (a list for several
    sizes)."""
    torch.set_num_threads(args.threads)
    init_default_scope('mmaction')
    work = args.work_dir or tempfile.mkdtemp(prefix='benchmark_cache_')
    results = [measure(args, size, work) for size in args.size]
    print('\n| frames | end to end s/epoch (median, min) | cached s/epoch '
          '(median, min) | speed-up (median, min) | target |')
    print('| --- | ---: | ---: | ---: | --- |')
    for r in results:
        target = ('—' if 'target' not in r else
                  f'>= {r["target"]:.0f}x: {"met" if r["met"] else "NOT met"}')
        print(f'| {r["size"]} px | {statistics.median(r["end_to_end"]):.2f}, '
              f'{min(r["end_to_end"]):.2f} | '
              f'{statistics.median(r["cached"]):.2f}, {min(r["cached"]):.2f}'
              f' | {r["ratio"]:.1f}x, {r["ratio_min"]:.1f}x | {target} |')
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(dict(settings=vars(args), results=results), f, indent=2)
    return results if len(results) > 1 else results[0]
