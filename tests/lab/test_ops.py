"""Ops per step (issue 33): the count of one training step of the head is
positive, the same at every step, split into computing ops and views, and
smaller without the constant masks' ops; the benchmark's ``ops/step``
column is tested with the tiny benchmark (tests/tools/test_benchmark.py)."""
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from hman_lab.speed.ops import count_ops

C, T, HW, V = 12, 16, 3, 2


def build_head(**options):
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=5,
            in_channels=C,
            num_segments=T,
            feat_channels=6,
            rnn=dict(type='HMLSTM', hidden_size=8, num_layers=2),
            attention=dict(type='SoftAttention', hidden_channels=7),
            **options))
    head.init_weights()
    return head.train()


def step_of(head):
    x = torch.randn(V * T, C, HW, HW, requires_grad=True)
    samples = [ActionDataSample().set_gt_label(i) for i in range(V)]

    def step():
        head.zero_grad(set_to_none=True)
        losses = head.loss(x, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    return step


def test_the_count_of_a_training_step_is_positive_and_stable():
    for fused in (True, False):
        step = step_of(build_head(fused_sequence=fused))
        step()  # first-call work (checks) out of the way
        counts = [count_ops(step) for _ in range(3)]
        assert counts[0] == counts[1] == counts[2]
        assert 0 < counts[0]['ops'] < counts[0]['all_ops']
        # forward and backward: more than a hundred ops per time step
        assert counts[0]['ops'] > 100 * T


def test_a_forward_alone_counts_fewer_ops_than_the_step():
    head = build_head()
    step = step_of(head)
    x = torch.randn(V * T, C, HW, HW)
    with torch.no_grad():
        forward = count_ops(lambda: head(x))['ops']
    assert 0 < forward < count_ops(step)['ops']


def test_the_constant_masks_cost_no_ops_any_more(monkeypatch):
    """The count judges a change: the cells without their constant masks'
    ops (issue 33, point 3) count fewer ops than before."""
    from hman_mmaction.models import hm_lstm
    from tests.models.test_graph_option import _old_cell
    now = count_ops(step_of(build_head(fused_sequence=False)))['ops']
    monkeypatch.setattr(hm_lstm.HMLSTM, '_cell', _old_cell)
    before = count_ops(step_of(build_head(fused_sequence=False)))['ops']
    assert now < before - 4 * T
