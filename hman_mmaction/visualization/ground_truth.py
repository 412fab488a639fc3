"""Ground-truth motion changes on the boundary timeline.

A change at frame ``f`` lies at the first sampled step ``t`` whose frame is
``>= f`` (:func:`~hman_mmaction.evaluation.boundary_metric.change_steps`,
the step :class:`BoundaryMetric` matches the boundaries against); it is
drawn as a dashed line at ``t - 0.5``, between the last step of the old
motion and the first of the new one, across every layer row.
"""
from typing import List, Sequence

CHANGE_STYLE = dict(color='#8e44ad', ls='--', lw=1.5)
CHANGE_LABEL = 'ground-truth motion change'


def mark_changes(axes: Sequence, steps: Sequence[int]) -> List:
    """Draw the change ``steps`` on every axis of ``axes`` (a legend entry
    on the first); returns the lines drawn."""
    lines = []
    for index, ax in enumerate(axes):
        for number, step in enumerate(steps):
            label = CHANGE_LABEL if index == 0 and number == 0 else None
            lines.append(ax.axvline(step - 0.5, label=label, **CHANGE_STYLE))
    if lines:
        axes[0].legend(fontsize=6, loc='upper left', framealpha=0.8)
    return lines
