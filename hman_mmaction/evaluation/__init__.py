"""Metrics: accuracy that counts unreadable clips as wrong; boundary
precision / recall / F1 against the ground-truth motion changes; attention
against the target's and the distractors' true boxes."""
from .attention_metric import (AttentionMetric, attention_scores, box_cells,
                               enable_attention_evaluation)
from .boundary_metric import (BoundaryMetric, boundary_scores, change_steps,
                              enable_boundary_evaluation, match_count)
from .robust_acc_metric import RobustAccMetric

__all__ = [
    'AttentionMetric', 'BoundaryMetric', 'RobustAccMetric', 'attention_scores',
    'box_cells', 'boundary_scores', 'change_steps',
    'enable_attention_evaluation', 'enable_boundary_evaluation', 'match_count'
]
