"""Draw what an HM-AN model does on one video.

    python tools/visualize_hman.py CONFIG CHECKPOINT VIDEO --out DIR
        [--class-names FILE] [--device cpu] [--cfg-options k=v ...]

Writes to DIR, named after the video: ``<stem>_attention.png`` (sampled
frames + attention heat-maps; hard attention: chosen cell outlined),
``<stem>_boundaries.png`` (boundary detector of every layer over time,
temperatures beneath; dashed lines: the ground-truth motion changes when
the video lies in a generated dataset with ``<split>_segments.json``),
``<stem>_annotated.mp4`` (the video with heat-map and per-step prediction)
and ``<stem>_hman.json`` (per-step attention, boundaries, temperatures,
class scores, the top layer's sub-action segments and the ground truth).
The model reads the video with the config's validation pipeline (one
view). See ``hman_mmaction.visualization``.
"""
import argparse
import sys

from mmengine.config import DictAction


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        'config', help='HM-AN config file (model.cls_head = '
        'HMANHead)')
    p.add_argument(
        'checkpoint',
        help='checkpoint file; "none" for the '
        'initialised model')
    p.add_argument('video', help='video file')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument(
        '--class-names',
        help='class names, one per line (e.g. '
        'data/synthetic_actions/classnames.txt); default: '
        'indices')
    p.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import hman_mmaction  # noqa: F401  (compat fixes, registries)
    from hman_mmaction.engine.launch import check_output_folder
    from hman_mmaction.visualization import visualize_video
    check_output_folder(args.out, '--out')
    checkpoint = None if args.checkpoint.lower() == 'none' else \
        args.checkpoint
    try:
        visualize_video(
            args.config,
            checkpoint,
            args.video,
            args.out,
            class_names=args.class_names,
            device=args.device,
            cfg_options=args.cfg_options)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        sys.exit(f'visualize_hman: error: {error}')


if __name__ == '__main__':
    main()
