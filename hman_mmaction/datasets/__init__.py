"""Datasets: the synthetic order-dependent action videos."""
from .box_geometry import RecordBoxGeometry, view_geometry
from .checked_video_dataset import (AnnotationError, BrokenVideoError,
                                    CheckedVideoDataset)
from .frame_size import FitFrameSize, batch_input_bytes
from .synthetic_actions import (HIERARCHICAL_NUM_SEGMENTS, SyntheticActionSpec,
                                class_names, generate_dataset,
                                hierarchical_spec, load_boxes, load_segments,
                                order_swapped_pairs, segments_for_video)

__all__ = [
    'AnnotationError', 'BrokenVideoError', 'CheckedVideoDataset',
    'FitFrameSize', 'HIERARCHICAL_NUM_SEGMENTS', 'SyntheticActionSpec',
    'batch_input_bytes', 'class_names', 'generate_dataset',
    'RecordBoxGeometry', 'hierarchical_spec', 'load_boxes', 'load_segments',
    'order_swapped_pairs', 'segments_for_video', 'view_geometry'
]
