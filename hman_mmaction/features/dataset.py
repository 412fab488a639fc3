"""Dataset over a feature store: one sample = the cached backbone features
``[T, C, H, W]`` of one clip and its label, packed by mmaction2's
``PackActionInputs`` like any video sample (``inputs`` + ``ActionDataSample``
with ``gt_label``), so train / val / test loops, ``AccMetric`` and hooks
are unchanged. The default pipeline also packs the record's sampled
``frame_inds`` and the video's ``gt_segments`` (when the store has them)
as metainfo, for :class:`BoundaryMetric`, and the record's ``box_geometry``
and the video's ``gt_boxes``, for :class:`AttentionMetric`."""
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS, TRANSFORMS
from mmcv.transforms import BaseTransform

from ..evaluation.attention_metric import META_KEYS as ATTENTION_KEYS
from ..evaluation.boundary_metric import META_KEYS
from .store import FeatureStore

# (store, split, what) -> (file identity, memmap), per process
_OPEN: Dict[tuple, tuple] = {}

VIEW_SAMPLING = ('random', 'all')

RECORD_FILES = dict(
    features=('.npy', FeatureStore.open_split),
    frame_inds=('_frame_inds.npy', FeatureStore.open_frame_inds),
    box_geometry=('_box_geometry.npy', FeatureStore.open_box_geometry))


def open_records(store: str,
                 split: str,
                 frame_inds: bool = False,
                 what: str = 'features') -> np.ndarray:
    """The memmap of ``split`` in ``store`` (``what``: ``'features'``,
    ``'frame_inds'`` (or ``frame_inds=True``), ``'box_geometry'``), opened
    once per process (and again if the file was re-extracted since)."""
    what = 'frame_inds' if frame_inds else what
    suffix, opener = RECORD_FILES[what]
    key = (osp.abspath(store), split, what)
    stat = os.stat(osp.join(store, split + suffix))
    identity = (stat.st_ino, stat.st_mtime_ns)
    if key not in _OPEN or _OPEN[key][0] != identity:
        _OPEN[key] = (identity, opener(FeatureStore(store), split))
    return _OPEN[key][1]


@TRANSFORMS.register_module()
class LoadCachedFeatures(BaseTransform):
    """``results['imgs']`` = one record ``[T, C, H, W]`` of
    ``results['records']`` in the store (a uniformly drawn one when there
    are several: the K stored augmented views of a training video).

    Required keys: ``feature_store``, ``split``, ``records``.
    Added keys: ``imgs``, ``record``, ``frame_inds`` (the frames the
    record's pipeline sampled; absent where it sampled none),
    ``box_geometry`` (absent where the pipeline recorded none).
    """

    def transform(self, results: dict) -> dict:
        records = results['records']
        record = records[np.random.randint(
            len(records))] if len(records) > 1 else records[0]
        array = open_records(results['feature_store'], results['split'])
        results['imgs'] = np.array(array[record])
        results['record'] = int(record)
        inds = np.array(
            open_records(results['feature_store'], results['split'],
                         True)[record])
        if (inds >= 0).all():
            results['frame_inds'] = inds
        geometry = np.array(
            open_records(
                results['feature_store'],
                results['split'],
                what='box_geometry')[record])
        if (geometry[:, 4] > 0).all():  # an input width: recorded
            results['box_geometry'] = geometry
        return results


DEFAULT_PIPELINE = [
    dict(type='LoadCachedFeatures'),
    dict(
        type='PackActionInputs',
        meta_keys=('img_shape', 'img_key', 'video_id', 'timestamp') +
        META_KEYS + tuple(k for k in ATTENTION_KEYS if k not in META_KEYS))
]


@DATASETS.register_module()
class CachedFeatureDataset(BaseActionDataset):
    """The clips of one split of a feature store made by
    ``tools/extract_features.py``.

    Args:
        store (str): the store directory (holds ``manifest.json``).
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        view_sampling (str): with K stored views per video: ``'random'``
            (default) one sample per video, drawing one of its K views at
            every access (epoch length = number of videos, as end to end);
            ``'all'`` every view is a sample (K times longer epochs).
        pipeline (list): defaults to ``LoadCachedFeatures`` +
            ``PackActionInputs``.
        kwargs: ``test_mode`` ... of ``BaseActionDataset``.
    """

    def __init__(self,
                 store: str,
                 split: str,
                 view_sampling: str = 'random',
                 pipeline: Optional[List] = None,
                 **kwargs):
        if view_sampling not in VIEW_SAMPLING:
            raise ValueError(f'CachedFeatureDataset view_sampling must be '
                             f'one of {VIEW_SAMPLING}, got {view_sampling!r}')
        self.store, self.split = store, split
        self.view_sampling = view_sampling
        super().__init__(
            ann_file=osp.join(store, 'manifest.json'),
            pipeline=DEFAULT_PIPELINE if pipeline is None else pipeline,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        store = FeatureStore(self.store)
        info = store.split_info(self.split)
        views = info['views']
        segments = info.get('segments') or [None] * len(info['videos'])
        boxes = store.boxes(self.split) or [None] * len(info['videos'])
        data_list = []
        for video, (name,
                    label) in enumerate(zip(info['videos'], info['labels'])):
            first = video * views
            groups = ([list(range(first, first + views))] if self.view_sampling
                      == 'random' else [[first + v] for v in range(views)])
            for records in groups:
                data_list.append(
                    dict(
                        feature_store=self.store,
                        split=self.split,
                        records=records,
                        label=label,
                        filename=name))
                if segments[video] is not None:
                    data_list[-1]['gt_segments'] = segments[video]
                if boxes[video] is not None:
                    data_list[-1]['gt_boxes'] = boxes[video]
        return data_list
