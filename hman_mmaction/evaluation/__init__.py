"""Metrics: accuracy that counts unreadable clips as wrong; boundary
precision / recall / F1 against the ground-truth motion changes."""
from .boundary_metric import (BoundaryMetric, boundary_scores, change_steps,
                              enable_boundary_evaluation, match_count)
from .robust_acc_metric import RobustAccMetric

__all__ = [
    'BoundaryMetric', 'RobustAccMetric', 'boundary_scores', 'change_steps',
    'enable_boundary_evaluation', 'match_count'
]
