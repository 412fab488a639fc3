"""Order-dependent synthetic action videos, written as real mp4 files.

A red square (the *target*) performs a sequence of 2-3 primitive motions
(``up``, ``down``, ``left``, ``right``), each for a random number of frames;
green circles and blue triangles (*distractors*) drift in random directions.
Every object draws a short fading trail along its current motion, so a
single frame shows which way it moves, but only the order of the frames
tells ``up-left`` from ``left-up``.

Nothing but the order may tell the two classes of such a pair apart, so
the scene is a torus: objects leave one border and come back at the
opposite one, and the target starts anywhere. Every frame's (motion,
position) then has the same distribution in ``up-left`` and ``left-up``
(the "up" of an ``up-left`` is not always at the right of the frame), and
the trail is drawn along the *current* motion only (a turn does not show
the previous one). A model that scores frames one by one and averages
(TSN) can only guess within a pair; ``order_acc`` of
:mod:`hman_mmaction.benchmark.accuracy` measures exactly that.

The output is mmaction2's ``VideoDataset`` layout::

    <root>/videos/<split>/<index>.mp4
    <root>/<split>_list_videos.txt      lines "<split>/<index>.mp4 <label>"
    <root>/classnames.txt               one class name per line
    <root>/meta.json                    the generator settings and seed
"""
import itertools
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

MOTIONS = {
    'up': (0.0, -1.0),
    'down': (0.0, 1.0),
    'left': (-1.0, 0.0),
    'right': (1.0, 0.0)
}
SPLITS = ('train', 'val', 'test')
TARGET_COLOR = (40, 40, 230)  # BGR red
DISTRACTOR_COLORS = ((60, 200, 60), (230, 120, 40))  # BGR green, blue
BACKGROUND = 30
# Bumped whenever the same spec and seed would draw different videos, so
# that a dataset made by an older generator is not reused (meta.json).
# 2: torus scene, trails along the current motion (no order leak).
GENERATOR_VERSION = 2


@dataclass
class SyntheticActionSpec:
    """How the videos look; every field is a flag of
    ``tools/data/make_synthetic_actions.py``."""
    size: int = 64  # frame height = width, pixels
    num_frames: int = 32  # frames per video
    fps: int = 16
    motions: Tuple[str, ...] = ('up', 'down', 'left', 'right')
    lengths: Tuple[int, ...] = (2, )  # motions per action (2 and/or 3)
    object_size: int = 8
    num_distractors: int = 2
    trail: int = 3  # fading copies behind the object, along its motion
    min_segment: float = 0.2  # shortest motion, as a share of the video
    noise: float = 6.0  # std of the per-pixel background noise

    def __post_init__(self):
        self.motions = tuple(self.motions)
        self.lengths = tuple(self.lengths)
        unknown = set(self.motions) - set(MOTIONS)
        if unknown or len(self.motions) < 2:
            raise ValueError(f'motions must be >= 2 of {sorted(MOTIONS)}, '
                             f'got {list(self.motions)}')
        if not self.lengths or not set(self.lengths) <= {2, 3}:
            raise ValueError(f'lengths must be 2 and/or 3, got {self.lengths}')
        if max(self.lengths) * self.min_segment > 1:
            raise ValueError('min_segment * max(lengths) must be <= 1')


def class_names(spec: SyntheticActionSpec) -> List[str]:
    """Every ordered sequence of motions without an immediate repeat, e.g.
    ``'up-left'``; ``'up-left'`` and ``'left-up'`` are different classes."""
    names = []
    for length in spec.lengths:
        for sequence in itertools.product(spec.motions, repeat=length):
            if all(a != b for a, b in zip(sequence, sequence[1:])):
                names.append('-'.join(sequence))
    return names


def order_swapped_pairs(names: Sequence[str]) -> List[Tuple[int, int]]:
    """Index pairs of classes that are the same motions in reverse order
    (``up-left`` / ``left-up``): an order-blind model can only guess."""
    index = {name: i for i, name in enumerate(names)}
    pairs = []
    for i, name in enumerate(names):
        reverse = '-'.join(reversed(name.split('-')))
        j = index.get(reverse)
        if j is not None and i < j:
            pairs.append((i, j))
    return pairs


def _segment_lengths(rng, num_frames, count, min_share):
    """Random frame counts of ``count`` motions, each >= min_share."""
    free = 1.0 - count * min_share
    shares = min_share + free * rng.dirichlet(np.ones(count))
    lengths = np.floor(shares * num_frames).astype(int)
    lengths[-1] = num_frames - lengths[:-1].sum()
    return lengths


def target_path(rng, sequence: Sequence[str], spec: SyntheticActionSpec):
    """Per-frame top-left positions ``[F, 2]`` of the target (unwrapped:
    draw them modulo ``spec.size``), its velocities ``[F, 2]`` (pixels per
    frame) and the index of the motion of every frame ``[F]``.

    The start is uniform over the frame; the speed makes the longest
    straight run cross 70-100% of the frame."""
    steps = _segment_lengths(rng, spec.num_frames, len(sequence),
                             spec.min_segment)
    directions = np.concatenate(
        [np.tile(MOTIONS[m], (n, 1)) for m, n in zip(sequence, steps)])
    offsets = np.vstack([[0.0, 0.0], np.cumsum(directions, axis=0)[:-1]])
    extent = offsets.max(0) - offsets.min(0)
    room = spec.size - spec.object_size
    speed = rng.uniform(0.7, 1.0) * room / max(extent.max(), 1.0)
    start = rng.uniform(0, spec.size, size=2)
    labels = np.repeat(np.arange(len(sequence)), steps)
    return start + offsets * speed, directions * speed, labels


def _distractor_paths(rng, spec: SyntheticActionSpec):
    """``(positions [F, 2], velocities [F, 2])`` of every distractor: a
    straight drift in a random direction (wrapping around the borders)."""
    paths = []
    frames = np.arange(spec.num_frames)[:, None]
    for _ in range(spec.num_distractors):
        start = rng.uniform(0, spec.size, size=2)
        angle = rng.uniform(0, 2 * np.pi)
        velocity = rng.uniform(0.5, 1.5) * np.array(
            [np.cos(angle), np.sin(angle)])
        paths.append((start + frames * velocity,
                      np.tile(velocity, (spec.num_frames, 1))))
    return paths


def _draw_shape(frame, kind, x, y, size, color):
    if kind == 'square':
        cv2.rectangle(frame, (x, y), (x + size - 1, y + size - 1), color, -1)
    elif kind == 'circle':
        r = size // 2
        cv2.circle(frame, (x + r, y + r), r, color, -1)
    else:
        pts = np.array([[x + size // 2, y], [x, y + size - 1],
                        [x + size - 1, y + size - 1]], np.int32)
        cv2.fillPoly(frame, [pts], color)


def _draw(frame, kind, xy, size, color):
    """Draw a shape whose top-left corner is ``xy`` on the torus: a shape
    crossing a border shows up in part at the opposite one as well."""
    side = frame.shape[0]
    x, y = (int(round(v)) % side for v in xy)
    for dx in (0, -side):
        for dy in (0, -side):
            if x + dx + size > 0 and y + dy + size > 0:
                _draw_shape(frame, kind, x + dx, y + dy, size, color)


def render_video(rng, sequence: Sequence[str],
                 spec: SyntheticActionSpec) -> np.ndarray:
    """Frames ``[F, size, size, 3]`` (uint8, BGR) of one action; the trail
    copy of age ``a`` of an object at position ``p_t`` moving with
    velocity ``v_t`` lies at ``p_t - a v_t``, faded by ``1 / (a + 1.5)``."""
    position, velocity, _ = target_path(rng, sequence, spec)
    objects = [('square', position, velocity, TARGET_COLOR)]
    for index, (path, speed) in enumerate(_distractor_paths(rng, spec)):
        kind = ('circle', 'triangle')[index % 2]
        objects.append((kind, path, speed, DISTRACTOR_COLORS[index % 2]))
    frames = np.empty((spec.num_frames, spec.size, spec.size, 3), np.uint8)
    for t in range(spec.num_frames):
        canvas = np.full((spec.size, spec.size, 3), BACKGROUND, np.float32)
        canvas += rng.normal(0, spec.noise, canvas.shape)
        # the full trail from the first frame on: a shorter one would tell
        # the first frames (and so the first motion) apart
        for age in range(spec.trail, -1, -1):  # oldest first
            fade = 1.0 / (age + 1.5) if age else 1.0
            for kind, path, speed, color in objects:
                layer = np.zeros_like(canvas)
                _draw(layer, kind, path[t] - age * speed[t],
                      spec.object_size, color)
                mask = layer.any(axis=2, keepdims=True)
                canvas = np.where(mask, canvas * (1 - fade) + layer * fade,
                                  canvas)
        frames[t] = np.clip(canvas, 0, 255).astype(np.uint8)
    return frames


def write_mp4(path: str, frames: np.ndarray, fps: int) -> None:
    """Write BGR frames ``[F, H, W, 3]`` as an MPEG-4 (mp4v) file."""
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write mp4 files here ({path}); '
                           'install opencv-python with FFMPEG support')
    for frame in frames:
        writer.write(frame)
    writer.release()


def config_overrides(root: str,
                     batch_size: Optional[int] = None,
                     workers: Optional[int] = None,
                     num_classes: Optional[int] = None) -> List[str]:
    """``--cfg-options`` that point the train/val/test loaders of a
    synthetic-actions config at the dataset in ``root`` (and optionally
    set the batch size, the workers and the number of classes)."""
    options = []
    if num_classes is not None:
        options.append(f'model.cls_head.num_classes={num_classes}')
    for split in SPLITS:
        loader = f'{split}_dataloader'
        options += [
            f'{loader}.dataset.ann_file={root}/{split}_list_videos.txt',
            f'{loader}.dataset.data_prefix.video={root}/videos',
        ]
        if num_classes is not None:
            options.append(f'{loader}.dataset.num_classes={num_classes}')
        if batch_size is not None:
            options.append(f'{loader}.batch_size={batch_size}')
        if workers is not None:
            options += [
                f'{loader}.num_workers={workers}',
                f'{loader}.persistent_workers={bool(workers)}'
            ]
    return options


def stale_reason(root: str,
                 spec: Optional[SyntheticActionSpec] = None,
                 counts: Optional[Dict[str, int]] = None,
                 seed: Optional[int] = None) -> Optional[str]:
    """Why the dataset in ``root`` cannot be reused (missing files, an
    older generator, other settings), or ``None`` if it can. ``spec``,
    ``counts`` and ``seed`` are compared only when given; with ``counts``
    only the splits it asks for need their lists."""
    meta_path = osp.join(root, 'meta.json')
    splits = [s for s in SPLITS if counts is None or counts.get(s)]
    missing = [
        name for name in [f'{s}_list_videos.txt' for s in splits] +
        ['classnames.txt', 'meta.json']
        if not osp.isfile(osp.join(root, name))
    ]
    if missing:
        return f'{root} lacks {", ".join(missing)}'
    with open(meta_path) as f:
        meta = json.load(f)
    version = meta.get('generator_version', 1)
    if version != GENERATOR_VERSION:
        return (f'{meta_path}: made by generator version {version}, this '
                f'is version {GENERATOR_VERSION}')
    wanted = dict(seed=seed, counts=counts,
                  spec=None if spec is None else json.loads(
                      json.dumps(asdict(spec))))
    for key, value in wanted.items():
        if value is not None and meta.get(key) != value:
            return f'{meta_path}: other {key} ({meta.get(key)} != {value})'
    return None


@dataclass
class SyntheticActionDataset:
    """Where a generated dataset lies and what it holds."""
    root: str
    classes: List[str]
    counts: Dict[str, int] = field(default_factory=dict)

    def ann_file(self, split: str) -> str:
        return osp.join(self.root, f'{split}_list_videos.txt')

    @property
    def video_root(self) -> str:
        return osp.join(self.root, 'videos')


def generate_dataset(root: str,
                     counts: Dict[str, int],
                     spec: SyntheticActionSpec = SyntheticActionSpec(),
                     seed: int = 0,
                     progress: bool = True) -> SyntheticActionDataset:
    """Write ``counts[split]`` videos per split, classes balanced
    (round-robin, then shuffled), each video seeded by ``(seed, split,
    index)`` so any subset can be regenerated identically."""
    unknown = set(counts) - set(SPLITS)
    if unknown:
        raise ValueError(f'unknown splits {sorted(unknown)}; use {SPLITS}')
    names = class_names(spec)
    os.makedirs(root, exist_ok=True)
    total = sum(counts.values())
    bar = ProgressBar(total) if progress and total else None
    for split_id, split in enumerate(SPLITS):
        count = counts.get(split, 0)
        if not count:
            continue
        os.makedirs(osp.join(root, 'videos', split), exist_ok=True)
        order_rng = np.random.default_rng([seed, split_id])
        labels = order_rng.permutation(np.arange(count) % len(names))
        lines = []
        for index, label in enumerate(labels):
            rng = np.random.default_rng([seed, split_id, index])
            relative = f'{split}/{index:05d}.mp4'
            frames = render_video(rng, names[label].split('-'), spec)
            write_mp4(osp.join(root, 'videos', relative), frames, spec.fps)
            lines.append(f'{relative} {label}\n')
            if bar is not None:
                bar.update()
        with open(osp.join(root, f'{split}_list_videos.txt'), 'w') as f:
            f.writelines(lines)
    if bar is not None:
        print()
    with open(osp.join(root, 'classnames.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump(dict(spec=asdict(spec), seed=seed, counts=counts,
                       generator_version=GENERATOR_VERSION), f, indent=2)
    return SyntheticActionDataset(root, names, dict(counts))
