"""Everything ``tools/visualize_hman.py`` does, as a function.

``visualize_video(config, checkpoint, video, out_dir)`` builds the model
with mmaction2's ``init_recognizer``, runs :func:`inference_hman` (the
config's single-view validation pipeline, see
:func:`hman_mmaction.apis.single_view_pipeline`) and writes, named after the
video ``<stem>``:

* ``<stem>_attention.png``: the sampled frames with their attention maps;
* ``<stem>_boundaries.png``: the per-layer boundary timeline, temperatures
  beneath; when the video has ground-truth segments (a generated dataset's
  ``<split>_segments.json``), its motion changes as dashed lines;
* ``<stem>_annotated.mp4``: the whole video with heat-map, per-step class
  and boundaries;
* ``<stem>_hman.json``: attention, boundaries, temperatures, per-step
  scores and the sub-action segments (:meth:`HMANTrace.to_dict`), plus
  ``gt_segments`` and ``gt_change_steps`` when known.
"""
import json
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import print_log

from ..apis import check_hman_config, inference_hman
from ..datasets.synthetic_actions import segments_for_video
from ..evaluation.boundary_metric import change_steps
from .figures import plot_attention_grid, plot_boundaries
from .trace import HMANTrace
from .video import read_frames, write_annotated_video


def load_class_names(path: Optional[str],
                     num_classes: Optional[int] = None) -> Optional[List[str]]:
    """One name per non-empty line; checked against ``num_classes``."""
    if path is None:
        return None
    if not osp.isfile(path):
        raise FileNotFoundError(f'class names file not found: {path}')
    with open(path) as f:
        names = [line.strip() for line in f if line.strip()]
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(f'{path} has {len(names)} class names, the model '
                         f'{num_classes} classes (model.cls_head.num_classes)')
    return names


def output_paths(out_dir: str, video: str) -> dict:
    stem = osp.splitext(osp.basename(video))[0]
    return dict(
        attention_grid=osp.join(out_dir, f'{stem}_attention.png'),
        boundaries=osp.join(out_dir, f'{stem}_boundaries.png'),
        video=osp.join(out_dir, f'{stem}_annotated.mp4'),
        json=osp.join(out_dir, f'{stem}_hman.json'))


def run_model(config,
              checkpoint: Optional[str],
              video: str,
              class_names: Optional[str] = None,
              device: str = 'cpu',
              cfg_options: Optional[dict] = None) -> HMANTrace:
    """Build the model, run it on ``video``, return its trace."""
    from mmaction.apis import init_recognizer
    if not osp.isfile(video):
        raise FileNotFoundError(f'video not found: {video}')
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config not found: {config}')
        source, cfg = config, Config.fromfile(config)
    else:
        source, cfg = 'config', config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    check_hman_config(cfg, source)
    names = load_class_names(class_names, cfg.model.cls_head.num_classes)
    model = init_recognizer(cfg, checkpoint, device=device)
    sample = inference_hman(model, video)
    return HMANTrace.from_sample(sample, names)


def write_outputs(trace: HMANTrace,
                  video: str,
                  out_dir: str,
                  info: Optional[dict] = None,
                  progress: bool = True,
                  dpi: int = 100,
                  gt_segments: Optional[List[list]] = None) -> dict:
    """Write the four outputs of ``trace`` (see module doc); returns their
    paths. ``gt_segments`` (``[[start, end, motion], ...]``) marks the
    ground-truth changes on the boundary timeline."""
    os.makedirs(out_dir, exist_ok=True)
    paths = output_paths(out_dir, video)
    frames = read_frames(video, trace.frame_inds)
    plot_attention_grid(trace, frames, paths['attention_grid'], dpi=dpi)
    print_log(f'attention grid -> {paths["attention_grid"]}', 'current')
    changes = (None if gt_segments is None else change_steps(
        trace.frame_inds, gt_segments))
    plot_boundaries(
        trace, paths['boundaries'], frames=frames, dpi=dpi, changes=changes)
    print_log(f'boundary timeline -> {paths["boundaries"]}', 'current')
    written = write_annotated_video(
        trace, video, paths['video'], progress=progress)
    print_log(
        f'annotated video ({written["frames"]} frames) -> '
        f'{paths["video"]}', 'current')
    record = dict(info or {}, video=video, outputs=paths)
    record.update(trace.to_dict())
    if gt_segments is not None:
        record.update(gt_segments=gt_segments, gt_change_steps=changes)
    with open(paths['json'], 'w') as f:
        json.dump(record, f, indent=1)
    print_log(f'steps, segments and scores -> {paths["json"]}', 'current')
    return paths


def visualize_video(config,
                    checkpoint: Optional[str],
                    video: str,
                    out_dir: str,
                    class_names: Optional[str] = None,
                    device: str = 'cpu',
                    cfg_options: Optional[dict] = None,
                    progress: bool = True) -> dict:
    """Run the model on ``video`` and write the four outputs to
    ``out_dir``; returns ``dict(paths..., trace=HMANTrace)``."""
    trace = run_model(config, checkpoint, video, class_names, device,
                      cfg_options)
    info = dict(
        config=config if isinstance(config, str) else None,
        checkpoint=checkpoint,
        pipeline='val_dataloader.dataset.pipeline (single view)')
    segments = segments_for_video(video)
    if segments is not None:
        print_log(f'ground-truth segments of {video}: {segments}', 'current')
    paths = write_outputs(
        trace, video, out_dir, info, progress, gt_segments=segments)
    k = int(trace.pred_score.argmax())
    print_log(
        f'prediction: {trace.label(k)} ({trace.pred_score[k]:.3f}); '
        f'{len(trace.segments())} top-layer segments', 'current')
    return dict(paths, trace=trace)
