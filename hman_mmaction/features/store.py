"""On-disk store of backbone features: one ``.npy`` memmap per split plus a
``manifest.json``.

Layout of a store directory ``DIR``::

    DIR/manifest.json   what made the features and what they are (below)
    DIR/<split>.npy     [num_records, T, C, H, W] (float16 by default),
                        a standard .npy file, opened with mmap_mode='r'
    DIR/<split>_frame_inds.npy  [num_records, S] int32: the frame indices
                        the pipeline sampled for each record (SampleFrames
                        ``frame_inds``; -1 where it gave none), for
                        :class:`BoundaryMetric`
    DIR/<split>_box_geometry.npy  [num_records, S, 8] float32: per stored
                        frame where a video pixel lands in the backbone's
                        input (``box_geometry``, the test crop included;
                        :mod:`hman_mmaction.datasets.box_geometry`), for
                        :class:`AttentionMetric`
    DIR/<split>_boxes.json  per video the target's and the distractors'
                        boxes in every frame (``gt_boxes``, from the
                        generator's ``<split>_boxes.json``; only when the
                        dataset had them)

Record ``r`` of a split holds view ``r % views`` of video ``r // views``
(``views`` > 1 only for the train split: K seeded samplings of the train
pipeline). ``manifest['splits'][split]`` lists ``videos`` and ``labels``
per video, ``segments`` per video (the ground-truth ``gt_segments`` the
dataset read from its sidecar, or null), ``record_shape``, ``views``, the
``pipeline`` and ``complete``:
the number of records written and flushed. ``complete`` only grows, in
whole batches, and the manifest is replaced atomically (write + fsync +
``os.replace``), so a killed extraction resumes at the last committed
record and rewrites anything after it.

A store is made by one backbone: ``manifest['fingerprint']`` (weights hash,
backbone and data-preprocessor config, dtype) and each split's fingerprint
(pipeline, data list, views, seed) must match for a later extraction to
write into it; otherwise :class:`StoreMismatchError` names the field.
"""
import glob
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import numpy as np

FORMAT = 'hman-feature-store'
# 2: <split>_frame_inds.npy and the splits' ``segments`` (boundary metric)
# 3: <split>_box_geometry.npy and <split>_boxes.json (attention metric)
VERSION = 3
#: how the messages name the extraction (the Python API; the repository's
#: command-line wrapper takes the same arguments)
EXTRACT = 'hman_mmaction.features.extract_features'
MANIFEST = 'manifest.json'
DTYPES = ('float16', 'float32')


class StoreMismatchError(ValueError):
    """A store was made by another backbone, data preprocessor, pipeline or
    data list than the one asked to write (or read) it."""


class IncompleteStoreError(RuntimeError):
    """A split is missing or was not extracted to the end."""


def canonical_json(value) -> str:
    """Stable JSON text (sorted keys, no spaces) for hashing."""
    return json.dumps(
        value, sort_keys=True, separators=(',', ':'), default=str)


def sha256_of(value) -> str:
    """sha256 of :func:`canonical_json` of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def write_json_atomic(path: str, value) -> None:
    """Write ``value`` to ``path`` so that a reader (or a restart after a
    kill) sees either the old or the new file, never a torn one."""
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(value, f, indent=1, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:  # make the rename itself durable
        fd = os.open(osp.dirname(osp.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _mismatch(store: str, where: str, field: str, stored, wanted,
              fix: str) -> StoreMismatchError:

    def short(value):
        text = canonical_json(value)
        return text if len(text) <= 160 else text[:157] + '...'

    return StoreMismatchError(
        f'feature store {store} ({where}) was made with a different '
        f'{field!r}:\n  stored: {short(stored)}\n  now:    {short(wanted)}\n'
        f'Features of different backbones/pipelines are never mixed. {fix}')


def frame_inds_file(info: dict, suffix: str = '_frame_inds.npy') -> str:
    """``<split>_frame_inds.npy`` beside the split's ``<split>.npy`` (or
    another ``suffix``: ``_box_geometry.npy``, ``_boxes.json``)."""
    return osp.splitext(info['file'])[0] + suffix


GEOMETRY_SUFFIX = '_box_geometry.npy'
BOXES_SUFFIX = '_boxes.json'


class FeatureStore:
    """A feature store directory (see the module doc for the layout).

    Args:
        root (str): the store directory.
    """

    def __init__(self, root: str):
        self.root = root
        self.manifest_path = osp.join(root, MANIFEST)
        self.manifest = self._read()

    # ------------------------------------------------------------ reading
    def _read(self) -> Optional[dict]:
        if not osp.isfile(self.manifest_path):
            return None
        with open(self.manifest_path) as f:
            manifest = json.load(f)
        if manifest.get('format') != FORMAT:
            raise ValueError(f'{self.manifest_path} is not a feature store '
                             f'manifest (format={manifest.get("format")!r})')
        if manifest.get('version') != VERSION:
            raise ValueError(
                f'{self.manifest_path} has store version '
                f'{manifest.get("version")}, this code reads {VERSION} '
                '(version 2 adds the sampled frame indices and ground-truth '
                'segments, version 3 the box geometry and the objects\' '
                f'boxes); delete {self.root} and extract it again with '
                f'{EXTRACT}(config, checkpoint, out={self.root!r}), or '
                'extract into a new directory')
        return manifest

    @property
    def exists(self) -> bool:
        return self.manifest is not None

    def split_info(self, split: str) -> dict:
        """The manifest entry of ``split``; raises if it is not complete."""
        if not self.exists:
            raise IncompleteStoreError(
                f'no feature store at {self.root} ({MANIFEST} missing): '
                f'extract one with {EXTRACT}(config, checkpoint, '
                f'out={self.root!r})')
        info = self.manifest['splits'].get(split)
        if info is None:
            raise IncompleteStoreError(
                f'feature store {self.root} has no split {split!r} (it has '
                f'{sorted(self.manifest["splits"])}); extract it with '
                f'{EXTRACT}(config, checkpoint, out={self.root!r}, '
                f'splits=[{split!r}])')
        if info['complete'] != info['num_records']:
            raise IncompleteStoreError(
                f'split {split!r} of feature store {self.root} is incomplete '
                f'({info["complete"]}/{info["num_records"]} clips): rerun the '
                f'same extraction ({EXTRACT} with the same arguments), it '
                'resumes there')
        return info

    def open_split(self, split: str) -> np.ndarray:
        """The records of a complete split, memory-mapped read-only."""
        info = self.split_info(split)
        return np.load(osp.join(self.root, info['file']), mmap_mode='r')

    def open_frame_inds(self, split: str) -> np.ndarray:
        """``[num_records, S]`` sampled frame indices of a complete split
        (memory-mapped read-only; -1 where the pipeline gave none)."""
        info = self.split_info(split)
        return np.load(
            osp.join(self.root, frame_inds_file(info)), mmap_mode='r')

    def open_box_geometry(self, split: str) -> np.ndarray:
        """``[num_records, S, 8]`` box geometry of a complete split
        (memory-mapped read-only)."""
        info = self.split_info(split)
        return np.load(
            osp.join(self.root, frame_inds_file(info, GEOMETRY_SUFFIX)),
            mmap_mode='r')

    def boxes(self, split: str) -> Optional[list]:
        """Per video the ``gt_boxes`` of ``split`` (``None`` for a video
        without them), or ``None`` when the dataset had none."""
        info = self.split_info(split)
        path = osp.join(self.root, frame_inds_file(info, BOXES_SUFFIX))
        if not osp.isfile(path):
            return None
        with open(path) as f:
            return json.load(f)

    # ------------------------------------------------------------ writing
    def write_boxes(self, split: str, boxes: list) -> None:
        """Store the per-video ``gt_boxes`` of ``split`` (atomically)."""
        info = self.manifest['splits'][split]
        write_json_atomic(
            osp.join(self.root, frame_inds_file(info, BOXES_SUFFIX)), boxes)

    def begin(self, fingerprint: dict, provenance: dict) -> None:
        """Create the store, or check that ``fingerprint`` (the fields that
        decide the features: weights, backbone and preprocessor config,
        dtype) equals the stored one."""
        if not self.exists:
            os.makedirs(self.root, exist_ok=True)
            self.manifest = dict(
                format=FORMAT,
                version=VERSION,
                fingerprint=fingerprint,
                splits={},
                **provenance)
            write_json_atomic(self.manifest_path, self.manifest)
            return
        stored = self.manifest['fingerprint']
        for field in sorted(set(stored) | set(fingerprint)):
            if stored.get(field) != fingerprint.get(field):
                raise _mismatch(
                    self.manifest_path, 'made by '
                    f'{self.manifest.get("config")} + '
                    f'{self.manifest.get("checkpoint")}', field,
                    stored.get(field), fingerprint.get(field),
                    'Extract into a new directory (--out NEW_DIR) or delete '
                    'this one.')

    def begin_split(self, split: str, fingerprint: dict, num_records: int,
                    description: dict) -> dict:
        """Register ``split`` (or check its ``fingerprint``: pipeline, data
        list, views, seed) and return its manifest entry; ``complete`` says
        where writing resumes."""
        splits = self.manifest['splits']
        if split in splits:
            info = splits[split]
            for field in sorted(set(info['fingerprint']) | set(fingerprint)):
                if info['fingerprint'].get(field) != fingerprint.get(field):
                    raise _mismatch(
                        self.manifest_path, f'split {split!r}', field,
                        info['fingerprint'].get(field), fingerprint.get(field),
                        'Extract into a new directory (--out NEW_DIR), or '
                        f'delete {osp.join(self.root, info["file"])} and '
                        f'the {split!r} entry of the manifest.')
            return info
        info = dict(
            file=f'{split}.npy',
            fingerprint=fingerprint,
            num_records=num_records,
            complete=0,
            record_shape=None,
            **description)
        splits[split] = info
        write_json_atomic(self.manifest_path, self.manifest)
        return info

    def records_for_write(self, split: str,
                          record_shape: Tuple[int, ...]) -> np.ndarray:
        """The split's memmap opened for writing; created (all records, at
        once, then renamed into place) before the first commit."""
        info = self.manifest['splits'][split]
        path = osp.join(self.root, info['file'])
        dtype = self.manifest['fingerprint']['dtype']
        if info['complete'] == 0 or not osp.isfile(path):
            if info['complete'] > 0:
                raise IncompleteStoreError(
                    f'{path} is missing but {self.manifest_path} records '
                    f'{info["complete"]} clips of {split!r}: the store is '
                    f'damaged; delete {self.root} and extract again')
            for stale in glob.glob(f'{path}.tmp.*'):  # a killed creation
                os.remove(stale)
            tmp = f'{path}.tmp.{os.getpid()}'
            array = np.lib.format.open_memmap(
                tmp,
                mode='w+',
                dtype=dtype,
                shape=(info['num_records'], ) + tuple(record_shape))
            os.replace(tmp, path)  # the mapping follows the inode
            info['record_shape'] = list(record_shape)
            return array
        if tuple(info['record_shape']) != tuple(record_shape):
            raise StoreMismatchError(
                f'split {split!r} of {self.manifest_path} holds records of '
                f'shape {info["record_shape"]}, the backbone now gives '
                f'{list(record_shape)}; extract into a new directory (--out)')
        return np.load(path, mmap_mode='r+')

    def frame_inds_for_write(self, split: str, length: int) -> np.ndarray:
        """The split's ``[num_records, length]`` int32 frame-index memmap
        opened for writing (created, filled with -1, before the first
        commit)."""
        info = self.manifest['splits'][split]
        path = osp.join(self.root, frame_inds_file(info))
        if info['complete'] == 0 or not osp.isfile(path):
            array = np.lib.format.open_memmap(
                path,
                mode='w+',
                dtype=np.int32,
                shape=(info['num_records'], length))
            array[:] = -1
            return array
        array = np.load(path, mmap_mode='r+')
        if array.shape[1] != length:
            raise StoreMismatchError(
                f'split {split!r} of {self.manifest_path} holds '
                f'{array.shape[1]} frame indices per record, the pipeline '
                f'now samples {length}; extract into a new directory (--out)')
        return array

    def geometry_for_write(self, split: str, frames: int) -> np.ndarray:
        """The split's ``[num_records, frames, 8]`` float32 box-geometry
        memmap opened for writing (created, filled with 0, before the
        first commit)."""
        info = self.manifest['splits'][split]
        path = osp.join(self.root, frame_inds_file(info, GEOMETRY_SUFFIX))
        if info['complete'] == 0 or not osp.isfile(path):
            array = np.lib.format.open_memmap(
                path,
                mode='w+',
                dtype=np.float32,
                shape=(info['num_records'], frames, 8))
            array[:] = 0
            return array
        array = np.load(path, mmap_mode='r+')
        if array.shape[1] != frames:
            raise StoreMismatchError(
                f'split {split!r} of {self.manifest_path} holds the box '
                f'geometry of {array.shape[1]} frames per record, the '
                f'pipeline now gives {frames}; extract into a new directory '
                '(--out)')
        return array

    def commit(self,
               split: str,
               array: np.ndarray,
               complete: int,
               frame_inds: Optional[np.ndarray] = None,
               geometry: Optional[np.ndarray] = None) -> None:
        """Flush the written records (and their frame indices and box
        geometry), then record (atomically) that the first ``complete``
        records of ``split`` are final."""
        array.flush()
        for extra in (frame_inds, geometry):
            if extra is not None:
                extra.flush()
        self.manifest['splits'][split]['complete'] = int(complete)
        write_json_atomic(self.manifest_path, self.manifest)

    def summary(self) -> Dict[str, str]:
        """``split -> 'complete/num_records [record shape]'``."""
        return {
            name:
            f'{info["complete"]}/{info["num_records"]} '
            f'{info["record_shape"]}'
            for name, info in (self.manifest or {}).get('splits', {}).items()
        }
