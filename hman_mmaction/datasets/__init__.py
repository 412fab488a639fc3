"""Datasets: the synthetic order-dependent action videos."""
from .synthetic_actions import (SyntheticActionSpec, class_names,
                                generate_dataset, order_swapped_pairs)

__all__ = [
    'SyntheticActionSpec', 'class_names', 'generate_dataset',
    'order_swapped_pairs'
]
