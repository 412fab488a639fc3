"""Metrics: accuracy that counts unreadable clips as wrong."""
from .robust_acc_metric import RobustAccMetric

__all__ = ['RobustAccMetric']
