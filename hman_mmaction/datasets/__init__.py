"""Datasets: the synthetic order-dependent action videos."""
from .checked_video_dataset import (AnnotationError, BrokenVideoError,
                                    CheckedVideoDataset)
from .synthetic_actions import (SyntheticActionSpec, class_names,
                                generate_dataset, order_swapped_pairs)

__all__ = [
    'AnnotationError', 'BrokenVideoError', 'CheckedVideoDataset',
    'SyntheticActionSpec', 'class_names', 'generate_dataset',
    'order_swapped_pairs'
]
