"""Order-dependent synthetic action videos, written as real mp4 files.

A red square (the *target*) performs a sequence of 2-4 primitive motions
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
:mod:`hman_lab.accuracy.scores` measures exactly that.

The output is mmaction2's ``VideoDataset`` layout::

    <root>/videos/<split>/<index>.mp4
    <root>/<split>_list_videos.txt      lines "<split>/<index>.mp4 <label>"
    <root>/<split>_segments.json        the ground-truth sub-actions (below)
    <root>/<split>_boxes.json           the objects' boxes in every frame
    <root>/classnames.txt               one class name per line
    <root>/meta.json                    the generator settings and seed

``<split>_segments.json`` maps every video path of the list (as written
there, relative to ``videos/``) to its motions in order,
``[[start, end, motion], ...]``: frames ``start <= f < end`` (0-based,
``end`` exclusive) show the target doing ``motion``; the first segment
starts at 0, each next one at the previous ``end``, the last ends at
``num_frames``. They are the labels :func:`target_path` draws the video
with, so they are exact.

``<split>_boxes.json`` maps the same paths to the boxes of the objects in
every frame, ``{"target": [box per frame], "distractors": [[box per
distractor] per frame]}``, a box ``[x0, y0, x1, y1]`` in pixels of the
video frame (``x0 <= x < x1``, ``y0 <= y < y1``): the pixels the object's
body is drawn on (its fading trail excluded). ``0 <= x0, y0 < size``; the
scene is a torus, so ``x1`` or ``y1`` beyond ``size`` means the box wraps
around to the opposite border (:func:`box_pieces` cuts it into the
rectangles inside the frame). They are the positions :func:`render_action`
draws, so they are exact.

Hierarchical variant (flags of the same generator, see
:func:`hierarchical_spec`): up to 4 motions per action (``lengths``),
``max_classes`` (a fixed subset of the classes that keeps order-swapped
pairs), longer clips (``num_frames``), variable durations (``min_segment``
and ``max_segment``), motions made of repeated strokes with pauses
(``stroke``, ``stroke_pause``) and test durations not seen in training
(``test_min_segment`` / ``test_max_segment``).
"""
import itertools
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass, field, replace
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
#: the demo data (``make demo``, ``tools/data/make_synthetic_actions.py``'s
#: defaults): videos per split and seed
DEMO_COUNTS = dict(train=960, val=192, test=384)
DEMO_SEED = 0
TARGET_COLOR = (40, 40, 230)  # BGR red
DISTRACTOR_COLORS = ((60, 200, 60), (230, 120, 40))  # BGR green, blue
BACKGROUND = 30
# Bumped whenever the same spec and seed would draw different videos, so
# that a dataset made by an older generator is not reused (meta.json).
# 2: torus scene, trails along the current motion (no order leak).
# 3: <split>_segments.json sidecar (the videos of a version-2 spec are
#    unchanged); hierarchical fields of SyntheticActionSpec.
# 4: <split>_boxes.json sidecar (the videos are unchanged).
GENERATOR_VERSION = 4
SEGMENTS_SUFFIX = '_segments.json'
BOXES_SUFFIX = '_boxes.json'
# A fixed seed: the class subset of ``max_classes`` depends on the spec only.
CLASS_SUBSET_SEED = 0


@dataclass
class SyntheticActionSpec:
    """How the videos look; every field is a flag of
    ``tools/data/make_synthetic_actions.py``."""
    size: int = 64  # frame height = width, pixels
    num_frames: int = 32  # frames per video
    fps: int = 16
    motions: Tuple[str, ...] = ('up', 'down', 'left', 'right')
    lengths: Tuple[int, ...] = (2, )  # motions per action (2, 3 and/or 4)
    object_size: int = 8
    num_distractors: int = 2
    trail: int = 3  # fading copies behind the object, along its motion
    min_segment: float = 0.2  # shortest motion, as a share of the video
    noise: float = 6.0  # std of the per-pixel background noise
    # --- hierarchical variant (the defaults leave the version-2 videos)
    max_classes: Optional[int] = None  # fixed subset of class_names()
    max_segment: float = 1.0  # longest motion, as a share of the video
    stroke: int = 0  # > 0: a motion = strokes of `stroke` moving frames
    stroke_pause: int = 2  # ... each followed by this many still frames
    test_min_segment: Optional[float] = None  # test split's durations
    test_max_segment: Optional[float] = None  # (None: as training)

    def __post_init__(self):
        self.motions = tuple(self.motions)
        self.lengths = tuple(self.lengths)
        unknown = set(self.motions) - set(MOTIONS)
        if unknown or len(self.motions) < 2:
            raise ValueError(f'motions must be >= 2 of {sorted(MOTIONS)}, '
                             f'got {list(self.motions)}')
        if not self.lengths or not set(self.lengths) <= {2, 3, 4}:
            raise ValueError(
                f'lengths must be among 2, 3, 4, got {self.lengths}')
        for lo, hi, where in ((self.min_segment, self.max_segment, ''),
                              (self.test_min_segment, self.test_max_segment,
                               'test_')):
            lo = self.min_segment if lo is None else lo
            hi = self.max_segment if hi is None else hi
            if max(self.lengths) * lo > 1 or min(self.lengths) * hi < 1:
                raise ValueError(
                    f'{where}min_segment={lo} and {where}max_segment={hi} '
                    f'cannot split a video into {list(self.lengths)} '
                    'motions: need min_segment * max(lengths) <= 1 <= '
                    'max_segment * min(lengths)')
        if self.max_classes is not None and self.max_classes < 2:
            raise ValueError(f'max_classes must be >= 2 (or None for all '
                             f'classes), got {self.max_classes}')
        if self.stroke < 0 or self.stroke_pause < 0:
            raise ValueError('stroke and stroke_pause must be >= 0, got '
                             f'{self.stroke}, {self.stroke_pause}')

    def for_split(self, split: str) -> 'SyntheticActionSpec':
        """The spec the videos of ``split`` are drawn with: the test split
        takes ``test_min_segment`` / ``test_max_segment`` when set."""
        if split != 'test' or (self.test_min_segment is None
                               and self.test_max_segment is None):
            return self
        return replace(
            self,
            min_segment=(self.min_segment if self.test_min_segment is None else
                         self.test_min_segment),
            max_segment=(self.max_segment if self.test_max_segment is None else
                         self.test_max_segment),
            test_min_segment=None,
            test_max_segment=None)


def hierarchical_spec(**overrides) -> SyntheticActionSpec:
    """The recommended hierarchical preset (``--preset hierarchical``):
    2, 3 or 4 motions per action (a fixed subset of 36 classes, 18
    order-swapped pairs: 4 classes of 2 motions, 4 of 3, 28 of 4), 48
    frames of 32 px, each motion >= 10 % of the clip, so that the number
    of changes (1-3 per clip) and their steps vary from video to video and
    no timing prior predicts them; sample it with
    :data:`HIERARCHICAL_NUM_SEGMENTS` = 16 segments. ~1000 videos take
    about a minute on one core. ``overrides`` replace fields, e.g.
    ``lengths=(3, ), max_classes=None, min_segment=0.15`` for the earlier
    preset (3 motions, always 2 changes), ``stroke=4`` for strokes."""
    preset = dict(
        size=32,
        num_frames=48,
        fps=16,
        lengths=(2, 3, 4),
        max_classes=36,
        object_size=5,
        num_distractors=2,
        min_segment=0.1)
    preset.update(overrides)
    return SyntheticActionSpec(**preset)


HIERARCHICAL_NUM_SEGMENTS = 16


def class_names(spec: SyntheticActionSpec) -> List[str]:
    """Every ordered sequence of motions without an immediate repeat, e.g.
    ``'up-left'``; ``'up-left'`` and ``'left-up'`` are different classes.

    With ``spec.max_classes`` a fixed subset (same for every seed and
    split): whole order-swapped pairs drawn with ``CLASS_SUBSET_SEED``
    first, then palindromes (``up-left-up``, their own reversal) if the
    pairs run out; listed in the full list's order."""
    names = []
    for length in spec.lengths:
        for sequence in itertools.product(spec.motions, repeat=length):
            if all(a != b for a, b in zip(sequence, sequence[1:])):
                names.append('-'.join(sequence))
    if spec.max_classes is None or spec.max_classes >= len(names):
        return names
    pairs = order_swapped_pairs(names)
    paired = {i for pair in pairs for i in pair}
    singles = [i for i in range(len(names)) if i not in paired]
    rng = np.random.default_rng(CLASS_SUBSET_SEED)
    keep: List[int] = []
    for p in rng.permutation(len(pairs)):
        keep += pairs[p][:spec.max_classes - len(keep)]
    for s in rng.permutation(singles):
        keep += [int(s)][:spec.max_classes - len(keep)]
    return [names[i] for i in sorted(keep)]


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


def _segment_lengths(rng, num_frames, count, min_share, max_share=1.0):
    """Random frame counts of ``count`` motions, each share of the video
    in ``[min_share, max_share]`` (uniform on that part of the simplex:
    draws above ``max_share`` are redrawn)."""
    free = 1.0 - count * min_share
    shares = min_share + free * rng.dirichlet(np.ones(count))
    for _ in range(1000):
        if shares.max() <= max_share:
            break
        shares = min_share + free * rng.dirichlet(np.ones(count))
    else:
        raise ValueError(f'cannot draw {count} motion shares in '
                         f'[{min_share}, {max_share}]; widen the range')
    lengths = np.floor(shares * num_frames).astype(int)
    lengths[-1] = num_frames - lengths[:-1].sum()
    return lengths


def _strokes(length: int, stroke: int, pause: int) -> np.ndarray:
    """``[length]`` 1 where a motion of ``length`` frames moves, 0 where it
    pauses: ``stroke`` moving frames, ``pause`` still ones, repeated (all 1
    when ``stroke`` is 0)."""
    if stroke <= 0:
        return np.ones(length)
    return (np.arange(length) % (stroke + pause) < stroke).astype(float)


def target_path(rng, sequence: Sequence[str], spec: SyntheticActionSpec):
    """Per-frame top-left positions ``[F, 2]`` of the target (unwrapped:
    draw them modulo ``spec.size``), its velocities ``[F, 2]`` (pixels per
    frame) and the index of the motion of every frame ``[F]``.

    The start is uniform over the frame; the speed makes the longest
    straight run cross 70-100% of the frame. With ``spec.stroke`` each
    motion is strokes separated by still frames (velocity 0, still
    labelled as that motion)."""
    steps = _segment_lengths(rng, spec.num_frames, len(sequence),
                             spec.min_segment, spec.max_segment)
    directions = np.concatenate([
        np.asarray(MOTIONS[m])[None] *
        _strokes(n, spec.stroke, spec.stroke_pause)[:, None]
        for m, n in zip(sequence, steps)
    ])
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
        paths.append(
            (start + frames * velocity, np.tile(velocity,
                                                (spec.num_frames, 1))))
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


def _corner(xy, side: int) -> Tuple[int, int]:
    """The pixel where a shape with top-left corner ``xy`` is drawn."""
    return tuple(int(round(v)) % side for v in xy)


def _extent(kind: str, size: int) -> int:
    """Pixels a shape of ``size`` covers along each axis: ``cv2.circle`` of
    radius ``size // 2`` covers ``2 r + 1``, the square and the triangle
    ``size``."""
    return 2 * (size // 2) + 1 if kind == 'circle' else size


def _box(kind: str, xy, size: int, side: int) -> List[int]:
    """``[x0, y0, x1, y1]`` (end exclusive, may pass ``side``: it wraps)
    of the pixels :func:`_draw` covers for the body of a shape."""
    x, y = _corner(xy, side)
    extent = _extent(kind, size)
    return [x, y, x + extent, y + extent]


def box_pieces(box: Sequence[float], width: int,
               height: int) -> List[Tuple[float, float, float, float]]:
    """The rectangles ``(x0, y0, x1, y1)`` inside a ``width x height``
    frame that a box of the sidecar covers on the torus: itself, or up to
    four pieces when it passes the right or bottom border."""
    x0, y0, x1, y1 = (float(v) for v in box)
    xs = [(x0, min(x1, width))] + ([(0.0, x1 - width)] if x1 > width else [])
    ys = [(y0, min(y1, height))
          ] + ([(0.0, y1 - height)] if y1 > height else [])
    return [(a, c, b, d) for a, b in xs for c, d in ys if b > a and d > c]


def _draw(frame, kind, xy, size, color):
    """Draw a shape whose top-left corner is ``xy`` on the torus: a shape
    crossing a border shows up in part at the opposite one as well."""
    side = frame.shape[0]
    x, y = _corner(xy, side)
    for dx in (0, -side):
        for dy in (0, -side):
            if x + dx + size > 0 and y + dy + size > 0:
                _draw_shape(frame, kind, x + dx, y + dy, size, color)


def segments_of(labels: np.ndarray, sequence: Sequence[str]) -> List[List]:
    """``[[start, end, motion], ...]`` (``end`` exclusive) of the runs of
    the per-frame motion indices ``labels`` (from :func:`target_path`)."""
    labels = np.asarray(labels)
    starts = [0] + [int(f) for f in np.flatnonzero(np.diff(labels)) + 1]
    ends = starts[1:] + [len(labels)]
    return [[s, e, sequence[int(labels[s])]] for s, e in zip(starts, ends)]


def render_video(rng, sequence: Sequence[str],
                 spec: SyntheticActionSpec) -> np.ndarray:
    """Frames ``[F, size, size, 3]`` (uint8, BGR) of one action, see
    :func:`render_action`."""
    return render_action(rng, sequence, spec)[0]


def object_boxes(objects, spec: SyntheticActionSpec) -> Dict[str, list]:
    """``{'target': [F boxes], 'distractors': [F lists of boxes]}`` of the
    bodies of ``objects`` (``(kind, path, velocity, color)``, the target
    first) as drawn, see the module doc."""
    boxes = [[
        _box(kind, path[t], spec.object_size, spec.size)
        for kind, path, _, _ in objects
    ] for t in range(spec.num_frames)]
    return dict(
        target=[frame[0] for frame in boxes],
        distractors=[frame[1:] for frame in boxes])


def render_action(rng, sequence: Sequence[str], spec: SyntheticActionSpec
                  ) -> Tuple[np.ndarray, List[List], Dict[str, list]]:
    """Frames ``[F, size, size, 3]`` (uint8, BGR) of one action, its
    ground-truth segments (:func:`segments_of`) and the objects' boxes
    (:func:`object_boxes`); the trail copy of age ``a`` of an object at
    position ``p_t`` moving with velocity ``v_t`` lies at ``p_t - a v_t``,
    faded by ``1 / (a + 1.5)``."""
    position, velocity, labels = target_path(rng, sequence, spec)
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
                _draw(layer, kind, path[t] - age * speed[t], spec.object_size,
                      color)
                mask = layer.any(axis=2, keepdims=True)
                canvas = np.where(mask,
                                  canvas * (1 - fade) + layer * fade, canvas)
        frames[t] = np.clip(canvas, 0, 255).astype(np.uint8)
    return frames, segments_of(labels, sequence), object_boxes(objects, spec)


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
        name for name in [f'{s}_list_videos.txt' for s in splits] + [
            f'{s}{suffix}' for s in splits
            for suffix in (SEGMENTS_SUFFIX, BOXES_SUFFIX)
        ] + ['classnames.txt', 'meta.json']
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
    wanted = dict(
        seed=seed,
        counts=counts,
        spec=None if spec is None else json.loads(json.dumps(asdict(spec))))
    for key, value in wanted.items():
        if value is not None and meta.get(key) != value:
            return f'{meta_path}: other {key} ({meta.get(key)} != {value})'
    return None


def segments_path(ann_file: str, suffix: str = SEGMENTS_SUFFIX) -> str:
    """The sidecar of an annotation list: ``<root>/<split>_segments.json``
    beside ``<root>/<split>_list_videos.txt`` (any other list name:
    ``<name without extension>_segments.json``); ``suffix=BOXES_SUFFIX``
    names the boxes sidecar."""
    base = osp.splitext(ann_file)[0]
    if base.endswith('_list_videos'):
        base = base[:-len('_list_videos')]
    return base + suffix


def boxes_path(ann_file: str) -> str:
    """The boxes sidecar of an annotation list (``<split>_boxes.json``)."""
    return segments_path(ann_file, BOXES_SUFFIX)


def _load_sidecar(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def load_segments(ann_file: str) -> Optional[Dict[str, List[List]]]:
    """The sidecar of ``ann_file`` (video path relative to ``videos/`` ->
    ``[[start, end, motion], ...]``), or ``None`` when there is none."""
    return _load_sidecar(segments_path(ann_file))


def load_boxes(ann_file: str) -> Optional[Dict[str, dict]]:
    """The boxes sidecar of ``ann_file`` (video path relative to
    ``videos/`` -> ``{'target': ..., 'distractors': ...}``, see the module
    doc), or ``None`` when there is none (data of generator version < 4)."""
    return _load_sidecar(boxes_path(ann_file))


def _write_per_video(path: str, values: dict) -> None:
    """JSON ``{video: value}``, one video per line."""
    with open(path, 'w') as f:
        f.write('{\n' + ',\n'.join(f'{json.dumps(k)}: {json.dumps(v)}'
                                   for k, v in values.items()) + '\n}\n')


def segments_for_video(video: str) -> Optional[List[List]]:
    """The ground-truth segments of ``video`` if it lies in a generated
    dataset (``<root>/videos/<split>/<name>`` with a sidecar
    ``<root>/*_segments.json`` listing it), else ``None``."""
    return _sidecar_for_video(video, load_segments)


def boxes_for_video(video: str) -> Optional[dict]:
    """The objects' boxes of ``video`` (``{'target': [F boxes],
    'distractors': ...}``) if it lies in a generated dataset with a boxes
    sidecar (generator version >= 4), else ``None``."""
    return _sidecar_for_video(video, load_boxes)


def _sidecar_for_video(video: str, load):
    """``load(<root>/<split>_list_videos.txt)[video]`` for the split that
    lists ``video``, or ``None``."""
    folder = osp.dirname(osp.abspath(video))
    while osp.basename(folder) and osp.basename(folder) != 'videos':
        folder = osp.dirname(folder)
    if osp.basename(folder) != 'videos':
        return None
    relative = osp.relpath(osp.abspath(video), folder).replace(osp.sep, '/')
    root = osp.dirname(folder)
    for split in SPLITS:
        values = load(osp.join(root, f'{split}_list_videos.txt'))
        if values and relative in values:
            return values[relative]
    return None


@dataclass
class SyntheticActionDataset:
    """Where a generated dataset lies and what it holds."""
    root: str
    classes: List[str]
    counts: Dict[str, int] = field(default_factory=dict)

    def ann_file(self, split: str) -> str:
        return osp.join(self.root, f'{split}_list_videos.txt')

    def segments_file(self, split: str) -> str:
        return segments_path(self.ann_file(split))

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
        split_spec = spec.for_split(split)
        lines, segments, boxes = [], {}, {}
        for index, label in enumerate(labels):
            rng = np.random.default_rng([seed, split_id, index])
            relative = f'{split}/{index:05d}.mp4'
            frames, segments[relative], boxes[relative] = render_action(
                rng, names[label].split('-'), split_spec)
            write_mp4(osp.join(root, 'videos', relative), frames, spec.fps)
            lines.append(f'{relative} {label}\n')
            if bar is not None:
                bar.update()
        ann_file = osp.join(root, f'{split}_list_videos.txt')
        with open(ann_file, 'w') as f:
            f.writelines(lines)
        _write_per_video(segments_path(ann_file), segments)
        _write_per_video(boxes_path(ann_file), boxes)
    if bar is not None:
        print()
    with open(osp.join(root, 'classnames.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump(
            dict(
                spec=asdict(spec),
                seed=seed,
                counts=counts,
                generator_version=GENERATOR_VERSION),
            f,
            indent=2)
    return SyntheticActionDataset(root, names, dict(counts))
