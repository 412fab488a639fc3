"""``AccMetric`` that keeps unreadable clips in the denominator.

A clip that :class:`~hman_mmaction.datasets.CheckedVideoDataset`
(``skip_broken_videos=True``) could not read reaches the metric as a stand-in
sample with the metainfo key ``broken_video`` and the broken clip's label.
Its prediction is replaced by the worst possible score vector (0 everywhere,
-1 at the true class), so it counts as wrong for every top-k with ``k <
num_classes`` and for mean class accuracy; ``broken_videos`` (how many) is
added to the metrics. Without broken clips the numbers are AccMetric's.
"""
from typing import Dict, List, Sequence

import torch
from mmaction.evaluation import AccMetric
from mmaction.registry import METRICS

from ..datasets.checked_video_dataset import BROKEN_KEY


def worst_scores(scores: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """A score vector shaped like ``scores`` that ranks ``label`` last."""
    worst = torch.zeros_like(scores)
    worst[label.reshape(-1).long()] = -1.0
    return worst


@METRICS.register_module()
class RobustAccMetric(AccMetric):
    """mmaction2's ``AccMetric`` plus ``broken_videos``; args as AccMetric."""

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        flags = []
        samples = []
        for sample in data_samples:
            broken = sample.get(BROKEN_KEY) is not None
            if broken:
                sample = dict(sample)
                sample['pred_score'] = worst_scores(sample['pred_score'],
                                                    sample['gt_label'])
            flags.append(broken)
            samples.append(sample)
        start = len(self.results)
        super().process(data_batch, samples)
        for result, broken in zip(self.results[start:], flags):
            result['broken'] = broken

    def compute_metrics(self, results: List) -> Dict:
        metrics = super().compute_metrics(results)
        metrics['broken_videos'] = sum(
            bool(r.get('broken', False)) for r in results)
        return metrics
