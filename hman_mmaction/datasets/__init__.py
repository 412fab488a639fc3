"""Datasets: the synthetic order-dependent action videos."""
from .checked_video_dataset import (AnnotationError, BrokenVideoError,
                                    CheckedVideoDataset)
from .frame_size import FitFrameSize, batch_input_bytes
from .synthetic_actions import (SyntheticActionSpec, class_names,
                                generate_dataset, order_swapped_pairs)

__all__ = [
    'AnnotationError', 'BrokenVideoError', 'CheckedVideoDataset',
    'FitFrameSize', 'batch_input_bytes',
    'SyntheticActionSpec', 'class_names', 'generate_dataset',
    'order_swapped_pairs'
]
