"""BoundaryRateFromDataHook: target_rate='auto' from the training data."""
import logging
from types import SimpleNamespace

import pytest
from mmaction.registry import MODELS

from hman_mmaction.engine.boundary_rate_hook import (BoundaryRateFromDataHook,
                                                     change_rate,
                                                     uniform_frame_inds)


def test_change_rate_counts_visible_changes_per_sampled_step():
    assert uniform_frame_inds(48, 16).tolist() == list(range(1, 48, 3))
    two_changes = [[0, 10, 'up'], [10, 30, 'down'], [30, 48, 'up']]
    one_change = [[0, 24, 'up'], [24, 48, 'left']]
    assert change_rate([two_changes, one_change, None], 16) == 3 / 32
    with pytest.raises(ValueError, match='gt_segments'):
        change_rate([None, []], 16)


class _Dataset:

    def __init__(self, infos):
        self.infos = infos

    def full_init(self):
        pass

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, index):
        return self.infos[index]


def _runner(target_rate, infos):
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=3,
            in_channels=4,
            num_segments=16,
            rnn=dict(type='HMLSTM', hidden_size=4),
            loss_boundary=dict(
                type='BoundaryRateLoss', target_rate=target_rate)))
    return SimpleNamespace(
        model=SimpleNamespace(cls_head=head),
        train_dataloader=SimpleNamespace(
            dataset=SimpleNamespace(dataset=_Dataset(infos))),
        logger=logging.getLogger('test')), head


def test_hook_sets_auto_rate_from_wrapped_training_dataset():
    segments = [[0, 24, 'up'], [24, 48, 'left']]
    runner, head = _runner('auto', [dict(gt_segments=segments)] * 3)
    BoundaryRateFromDataHook().before_train(runner)
    assert head.losses['loss_boundary'].target_rate.tolist() == [1 / 16]


def test_hook_leaves_numeric_rates_and_refuses_data_without_segments():
    runner, head = _runner(0.3, [dict()])
    BoundaryRateFromDataHook().before_train(runner)
    assert head.losses['loss_boundary'].target_rate.tolist() == \
        pytest.approx([0.3])
    runner, head = _runner('auto', [dict()])
    with pytest.raises(ValueError, match='segments.json'):
        BoundaryRateFromDataHook().before_train(runner)
