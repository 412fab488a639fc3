"""README figures from the demo checkpoint (``tools/make_readme_figures.py``,
:func:`make_readme_figures`): an attention grid and a boundary timeline,
written to docs/images/ (each kept under :data:`MAX_BYTES`), or the
boundary raster of a ``tools/test.py --dump`` made with ``--boundaries``.
"""
import io
import math
import os
import os.path as osp
import sys

import numpy as np

from .runs import REPO, best_checkpoint, python, run_process

MAX_BYTES = 150 * 1024  # hard limit per figure
QUANTIZE_ABOVE = 120 * 1024  # larger PNGs are stored with a palette


def boundary_raster(args):
    """The ``--boundary-dump`` figure (see the module doc)."""
    import pickle

    from hman_mmaction.visualization import plot_boundary_raster, raster_rows
    with open(args.boundary_dump, 'rb') as f:
        results = pickle.load(f)
    missing = [
        k for k in ('boundaries', 'frame_inds', 'gt_segments')
        if k not in results[0]
    ]
    if missing:
        sys.exit(f'{args.boundary_dump} lacks {missing}: dump the test of a '
                 'model with boundary detectors with --boundaries')
    z, changes = raster_rows(results[:args.clips])
    os.makedirs(args.out, exist_ok=True)
    path = osp.join(args.out, f'{args.prefix}_boundary_raster.png')
    size = save_small_png(
        lambda p: plot_boundary_raster(
            z, changes, p, title=args.title, dpi=args.dpi), path)
    print(f'{len(z)} clips: {int(z.sum())} boundaries, '
          f'{sum(map(len, changes))} ground-truth changes; wrote {path} '
          f'({size / 1024:.0f} KB)')


def find_checkpoint(args):
    """``--checkpoint``, else the newest ``best_*.pth`` of ``--work-dir``
    (``--train``: after ``tools/demo.py`` when there is none)."""
    if args.checkpoint:
        return args.checkpoint
    found = _best(args.work_dir)
    if found is None and args.train:
        run_process(
            python(
                osp.join('tools',
                         'demo.py'), '--config', args.config, '--work-dir',
                args.work_dir, '--data-root', args.data_root)).check()
        found = _best(args.work_dir)
    if found is None:
        sys.exit(f'no best_*.pth in {args.work_dir}: run `python '
                 f'tools/demo.py --config {args.config} --work-dir '
                 f'{args.work_dir}` (or pass --train / --checkpoint)')
    return found


def _best(work_dir):
    try:
        return best_checkpoint(work_dir, last_epoch=False)
    except FileNotFoundError:
        return None


def test_videos(data_root):
    ann = osp.join(data_root, 'test_list_videos.txt')
    if not osp.isfile(ann):
        sys.exit(f'{ann} not found: generate the demo data with `python '
                 f'tools/data/make_synthetic_actions.py {data_root}`')
    with open(ann) as f:
        rows = [line.split() for line in f if line.strip()]
    return [(osp.join(data_root, 'videos', path), int(label))
            for path, label in rows]


def save_small_png(write, path, max_bytes=MAX_BYTES):
    """Render with ``write(path)``; if the PNG is larger than
    ``QUANTIZE_ABOVE``, store it with a 256-colour palette instead."""
    from PIL import Image
    write(path)
    if osp.getsize(path) > QUANTIZE_ABOVE:
        image = Image.open(path).convert('RGB')
        buffer = io.BytesIO()
        image.quantize(256).save(buffer, format='PNG', optimize=True)
        with open(path, 'wb') as f:
            f.write(buffer.getvalue())
    size = osp.getsize(path)
    if size > max_bytes:
        raise RuntimeError(f'{path} is {size} bytes > {max_bytes}: lower '
                           '--dpi')
    return size


def make_readme_figures(args):
    """``tools/make_readme_figures.py`` from the repository root: the
    boundary raster of ``--boundary-dump``, else the demo figures."""
    os.chdir(REPO)
    if args.boundary_dump:
        return boundary_raster(args)
    from mmaction.apis import init_recognizer

    import hman_mmaction  # noqa: F401
    from hman_mmaction.apis import inference_hman
    from hman_mmaction.datasets.synthetic_actions import (boxes_for_video,
                                                          segments_for_video)
    from hman_mmaction.evaluation.boundary_metric import change_steps
    from hman_mmaction.visualization import (HMANTrace, load_class_names,
                                             plot_attention_grid,
                                             plot_boundaries, read_frames)
    checkpoint = find_checkpoint(args)
    names_file = osp.join(args.data_root, 'classnames.txt')
    names = load_class_names(names_file) if osp.isfile(names_file) else None
    model = init_recognizer(args.config, checkpoint, device='cpu')
    videos = test_videos(args.data_root)
    picks = ([args.index] if args.index is not None else range(
        min(args.candidates, len(videos))))
    chosen, entropies = None, []
    for index in picks:
        video, label = videos[index]
        trace = HMANTrace.from_sample(inference_hman(model, video), names)
        uniform = math.log(trace.attention[0].size)
        ratio = float(trace.attention_entropy().mean() / uniform)
        entropies.append(ratio)
        correct = int(trace.pred_score.argmax()) == label
        print(f'test video {index}: label {trace.label(label)}, predicted '
              f'{trace.label(int(trace.pred_score.argmax()))}; attention '
              f'entropy {ratio * uniform:.3f} nats = {ratio:.2f} log K '
              f'(K={trace.attention[0].size}); layer-1 boundaries '
              f'{trace.boundaries[0].astype(int).tolist()}')
        if chosen is None and (correct or args.index is not None):
            chosen = (index, video, trace)
    if chosen is None:
        index = picks[0]
        video = videos[index][0]
        chosen = (index, video,
                  HMANTrace.from_sample(inference_hman(model, video), names))
    index, video, trace = chosen
    print(f'mean attention entropy over {len(entropies)} videos: '
          f'{np.mean(entropies):.2f} log K')
    frames = read_frames(video, trace.frame_inds)
    segments = segments_for_video(video)  # ground truth, if generated
    boxes = boxes_for_video(video)
    targets = (None if boxes is None else
               [boxes['target'][int(i)] for i in trace.frame_inds])
    changes = (None if segments is None else change_steps(
        trace.frame_inds, segments))
    os.makedirs(args.out, exist_ok=True)
    grid = osp.join(args.out, f'{args.prefix}_attention.png')
    timeline = osp.join(args.out, f'{args.prefix}_boundaries.png')
    sizes = [
        save_small_png(
            lambda p: plot_attention_grid(
                trace, frames, p, dpi=args.dpi, target_boxes=targets), grid),
        save_small_png(
            lambda p: plot_boundaries(
                trace, p, frames=frames, dpi=args.dpi, changes=changes),
            timeline)
    ]
    print(f'checkpoint {checkpoint}, test video {index} ({video})')
    for path, size in zip((grid, timeline), sizes):
        print(f'wrote {path} ({size / 1024:.0f} KB)')
