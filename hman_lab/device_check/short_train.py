"""A short training run of a real config on generated videos laid out as
UCF101 (part d of ``tools/device_check.py``).

:func:`write_ucf101_layout` renders synthetic order-dependent actions
(:mod:`hman_mmaction.datasets.synthetic_actions`, OpenCV's writer: no
ffmpeg binary needed) into mmaction2's UCF101 layout::

    <root>/videos/<Class>/v_<Class>_g<NN>_c01.avi
    <root>/ucf101_{train,val}_split_1_videos.txt   ("<Class>/<file> <label>")

The train list repeats the videos so that one epoch is exactly the number
of full batches asked for, then one smaller batch (``last_batch`` videos):
the last batch of an epoch, which a CUDA-graph key must not pad.
:func:`short_run` trains a config on it for one epoch through mmaction2's
runner as ``tools/train.py`` builds it
(:func:`hman_mmaction.engine.launch.train_config`; ``--amp``: float16
with dynamic loss scaling on CUDA, bfloat16 on CPU), without validation
or checkpoints and with the backbone's ImageNet download off
(``pretrained=None``), and records per iteration the loss, the batch size
and the time. It returns the losses, whether they are finite and falling
(mean of the last third below the mean of the first third), the median
time per iteration of the full batches after the first ``warmup``
iterations, the peak GPU memory and, for the HM-AN head, its CUDA graphs
(keys, capture seconds).

Peak memory: mmengine's log processor resets CUDA's peak counter at every
log line, so the recorder reads ``torch.cuda.max_memory_allocated`` itself
after every iteration, before the logger (priority ``HIGHEST``), and keeps
the largest, from its own reset before the first iteration.
"""
import math
import os
import os.path as osp
import statistics
import time
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from hman_mmaction.datasets.synthetic_actions import (SyntheticActionSpec,
                                                      class_names,
                                                      render_action, write_mp4)


def head_graphs(model) -> Optional[Dict]:
    """The HM-AN head's CUDA graphs after training: the option, the shape
    keys captured (views each) and the capture seconds (None for another
    head)."""
    head = getattr(getattr(model, 'module', model), 'cls_head', None)
    graphs = getattr(head, '_graphs', None)
    if graphs is None:
        return None
    seconds = graphs.capture_seconds
    return dict(
        option=head.cuda_graphs,
        keys=[key.shape[0] // head.num_segments for key in seconds],
        capture_s=[round(s, 3) for s in seconds.values()],
        capture_total_s=sum(seconds.values()),
        compile_s=sum(graphs.compile_seconds.values()) or None)


def _camel(name: str) -> str:
    """``'up-left'`` -> ``'UpLeft'`` (UCF101's class folder style)."""
    return ''.join(part.capitalize() for part in name.split('-'))


def write_ucf101_layout(root: str,
                        iterations: int,
                        batch_size: int,
                        last_batch: int = 0,
                        num_classes: int = 4,
                        per_class: int = 4,
                        size: int = 128,
                        num_frames: int = 32,
                        seed: int = 0) -> Dict:
    """Write the videos and split-1 lists (see the module doc); the train
    list has ``iterations * batch_size + last_batch`` lines. Returns what
    was written."""
    spec = SyntheticActionSpec(
        size=size, num_frames=num_frames, object_size=max(8, size // 8))
    names = class_names(spec)[:num_classes]
    rng = np.random.default_rng(seed)
    videos = []
    for label, name in enumerate(names):
        folder = _camel(name)
        os.makedirs(osp.join(root, 'videos', folder), exist_ok=True)
        for group in range(1, per_class + 1):
            relative = f'{folder}/v_{folder}_g{group:02d}_c01.avi'
            frames = render_action(rng, name.split('-'), spec)[0]
            write_mp4(osp.join(root, 'videos', relative), frames, spec.fps)
            videos.append((relative, label))
    lines = iterations * batch_size + last_batch
    train = [videos[i % len(videos)] for i in range(lines)]
    for split, rows in (('train', train), ('val', videos)):
        with open(osp.join(root, f'ucf101_{split}_split_1_videos.txt'),
                  'w') as f:
            f.writelines(f'{path} {label}\n' for path, label in rows)
    return dict(
        root=root,
        classes=[_camel(n) for n in names],
        videos=len(videos),
        train_lines=len(train),
        size=size,
        num_frames=num_frames)


class IterationRecorder(Hook):
    """Loss, batch size and wall time after every training iteration (the
    device synchronised first) and the peak GPU memory from the start of
    training, read before the logger resets the counter (module doc)."""

    priority = 'HIGHEST'

    def __init__(self):
        self.losses: List[float] = []
        self.times: List[float] = []
        self.batches: List[int] = []
        self.peak = None

    def before_train(self, runner) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.peak = 0
        self.start = time.perf_counter()

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            self.peak = max(self.peak, torch.cuda.max_memory_allocated())
        self.times.append(time.perf_counter())
        self.losses.append(float(outputs['loss']))
        inputs = (data_batch or {}).get('inputs', ())
        self.batches.append(len(inputs))


def _shrink(cfg, size: int, segments: int) -> None:
    """Frames of ``size`` px and ``segments`` per clip (a CPU dry run):
    the pipelines' resize / crop sizes and ``num_clips``, the head's
    ``num_segments``."""
    for loader in ('train_dataloader', 'test_dataloader'):
        for step in cfg[loader].dataset.pipeline:
            if step['type'] == 'SampleFrames':
                step['num_clips'] = segments
            elif step['type'] == 'Resize':
                step['scale'] = ((-1, size +
                                  size // 7) if step['scale'][0] == -1 else
                                 (size, size))
            elif step['type'] == 'MultiScaleCrop':
                step['input_size'] = size
            elif step['type'] in ('CenterCrop', 'ThreeCrop'):
                step['crop_size'] = size
    if 'num_segments' in cfg.model.cls_head:
        cfg.model.cls_head.num_segments = segments


def short_run(config: str,
              data: Dict,
              work_dir: str,
              batch_size: int,
              amp: bool = True,
              workers: int = 4,
              warmup: int = 5,
              shrink: Optional[Dict] = None,
              name: Optional[str] = None,
              cuda_graphs=None) -> Dict:
    """One epoch (``data['train_lines'] / batch_size`` iterations, the
    last one smaller) of ``config`` on the layout of
    :func:`write_ucf101_layout` (see the module doc). ``shrink``:
    ``dict(size=, segments=)`` for a CPU dry run; ``cuda_graphs``: the HM-AN
    head's option (None: the config's)."""
    from mmaction.registry import RUNNERS
    from mmengine.runner import Runner

    from hman_mmaction.engine.launch import train_config
    root = data['root']
    cfg = train_config(
        config, work_dir=work_dir, amp=amp, no_validate=True, seed=0)
    cfg.model.backbone.pretrained = None  # no ImageNet download
    for loader, split in (('train_dataloader', 'train'), ('test_dataloader',
                                                          'val')):
        dataset = cfg[loader].dataset
        dataset.ann_file = osp.join(root, f'ucf101_{split}_split_1_videos.txt')
        dataset.data_prefix = dict(video=osp.join(root, 'videos'))
        cfg[loader].batch_size = batch_size
        cfg[loader].num_workers = workers
        cfg[loader].persistent_workers = False
    if shrink:
        _shrink(cfg, **shrink)
    if cuda_graphs is not None:
        cfg.model.cls_head.cuda_graphs = cuda_graphs
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 10
    cfg.experiment_name = name or osp.basename(work_dir)
    runner_cls = RUNNERS.get(cfg.get('runner_type', 'Runner')) or Runner
    runner = runner_cls.from_cfg(cfg)
    recorder = IterationRecorder()
    runner.register_hook(recorder)
    start = time.perf_counter()
    runner.train()
    wall = time.perf_counter() - start
    losses, times = recorder.losses, recorder.times
    third = max(1, len(losses) // 3)
    finite = all(math.isfinite(v) for v in losses)
    falling = finite and (statistics.fmean(losses[-third:]) < statistics.fmean(
        losses[:third]))
    steps = [(b - a, size)
             for a, b, size in zip([recorder.start] +
                                   times, times, recorder.batches)]
    # full batches after the warm-up (the smaller last one has its own key)
    timed = [s for s, size in steps[warmup:] if size == batch_size]
    median = statistics.median(timed) if timed else None
    optim = cfg.optim_wrapper.get('type', 'OptimWrapper')
    return dict(
        config=config,
        iterations=len(losses),
        batch_size=batch_size,
        batch_sizes=recorder.batches,
        losses=losses,
        finite=finite,
        falling=falling,
        first_loss=losses[0] if losses else None,
        last_loss=losses[-1] if losses else None,
        iteration_s=[s for s, _ in steps],
        median_ms=None if median is None else 1e3 * median,
        iters_per_s=None if not median else 1.0 / median,
        timed_iterations=len(timed),
        peak_gpu_mib=(None if recorder.peak is None else recorder.peak /
                      2**20),
        wall_s=wall,
        graphs=head_graphs(runner.model),
        optim_wrapper=optim,
        frame_size=(shrink or {}).get('size', 224),
        segments=next(step['num_clips']
                      for step in cfg.train_dataloader.dataset.pipeline
                      if step['type'] == 'SampleFrames'))
