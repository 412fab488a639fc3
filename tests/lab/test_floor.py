"""The floor's work figures: the FLOPs computed from the shapes are the
FLOPs the head's matrix products do (counted by torch's FlopCounterMode on
a run), for every score, attention, boundary and with or without the input
projection; training does three times the forward's."""
import pytest
import torch
from mmaction.registry import MODELS
from torch.utils.flop_counter import FlopCounterMode

from hman_lab.speed.cases import MeanPoolLSTM
from hman_lab.speed.floor import (floor_ms, head_work, hman_head_flops,
                                  lstm_flops)

C, T, V, SIDE = 12, 4, 3, 3


def build_head(score, attention, boundary, feat_channels, query='all'):
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=5,
            in_channels=C,
            num_segments=T,
            feat_channels=feat_channels,
            attention_query=query,
            rnn=dict(
                type='HMLSTM',
                hidden_size=8,
                num_layers=2,
                boundary=dict(type=boundary)),
            attention=dict(
                type=attention,
                score=score,
                hidden_channels=7,
                num_locations=SIDE * SIDE)))
    head.init_weights()
    return head.train()


def counted(fn):
    """FLOPs of ``fn`` as torch counts them."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


@pytest.mark.parametrize('boundary', ['GumbelBoundary', 'NoBoundary'])
@pytest.mark.parametrize('feat_channels', [None, 6], ids=['no-proj', 'proj'])
@pytest.mark.parametrize('attention', ['SoftAttention', 'GumbelHardAttention'])
@pytest.mark.parametrize('score', ['content', 'bilinear', 'location'])
def test_head_flops_from_shapes_equal_the_counted_flops_of_a_run(
        score, attention, feat_channels, boundary):
    head = build_head(score, attention, boundary, feat_channels)
    x = torch.randn(V * T, C, SIDE, SIDE, requires_grad=True)
    forward = counted(lambda: head.run(x))
    assert hman_head_flops(head, V, SIDE * SIDE) == forward
    train = counted(lambda: head.run(x).cls_scores.sum().backward())
    work = head_work('hman_soft', head, x, V)
    assert work['infer']['flops'] == forward
    assert work['train']['flops'] == train == 3 * forward


def test_head_flops_with_the_top_layer_query():
    head = build_head(
        'content', 'SoftAttention', 'GumbelBoundary', 6, query='top')
    x = torch.randn(V * T, C, SIDE, SIDE)
    assert hman_head_flops(head, V,
                           SIDE * SIDE) == counted(lambda: head.run(x))


def test_lstm_flops_are_the_gate_gemms_of_every_layer_and_step():
    model = MeanPoolLSTM(C, 8, 2, 5, T)
    expected = (2 * V * T * 32 * (C + 8) + 2 * V * T * 32 * (8 + 8) +
                2 * V * 8 * 5)
    assert lstm_flops(model, V) == expected


def test_training_bytes_read_the_input_again_only_when_needed():
    head = build_head('content', 'SoftAttention', 'GumbelBoundary', 6)
    x = torch.randn(V * T, C, SIDE, SIDE)
    x_bytes = x.numel() * 4
    p_bytes = sum(p.numel() for p in head.parameters()) * 4
    work = head_work('hman_soft', head, x, V)
    assert work['infer']['bytes'] == x_bytes + p_bytes
    assert work['train']['bytes'] == 3 * x_bytes + 3 * p_bytes
    lstm = MeanPoolLSTM(C, 8, 2, 5, T)
    p_bytes = sum(p.numel() for p in lstm.parameters()) * 4
    assert head_work('lstm', lstm, x,
                     V)['train']['bytes'] == (2 * x_bytes + 3 * p_bytes)


def test_floor_is_the_slower_of_compute_and_traffic():
    machine = dict(gemm_gflops=100.0, stream_gbps=10.0)
    compute_bound = floor_ms(dict(flops=1e9, bytes=1e6), machine)
    assert compute_bound['floor_ms'] == pytest.approx(10.0)
    memory_bound = floor_ms(dict(flops=1e6, bytes=1e9), machine)
    assert memory_bound['floor_ms'] == pytest.approx(100.0)
