"""HMLSTM(timing='pre'): the boundary is decided before the cells from
``[x_t ; delta_t ; h_{t-1}]`` and acts in the same step (exact UPDATE /
COPY / FLUSH with the finished segment handed up), the readouts (linear,
MLP), the offsets that follow the timing, and the training-free detector."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from hman_mmaction.models.change_features import (PeakThreshold,
                                                  frame_change_score,
                                                  shift_steps)
from tests.models.test_hm_lstm import (ScriptedBoundary, copy_lstm_weights,
                                       reference_cell)

# z of layers 1, 2 (the top layer of 3 has a detector too: an ablation,
# so every case of every layer can be scripted) at steps t = 1..6
PATTERN = ([1, 0, 1, 1, 0, 1], [1, 0, 0, 1, 0, 1], [0, 0, 0, 1, 0, 0])


def build_hmlstm(**kwargs):
    """An HMLSTM with input 5, hidden 6, 2 layers unless ``kwargs`` say
    otherwise."""
    return MODELS.build(
        dict(
            dict(type='HMLSTM', input_size=5, hidden_size=6, num_layers=2),
            **kwargs))


def pre_hmlstm(num_layers=3, top_boundary=True, **kwargs):
    hmlstm = build_hmlstm(
        num_layers=num_layers,
        boundary=dict(type='HardSigmoidBoundary'),
        top_boundary=top_boundary,
        timing='pre',
        **kwargs)
    hmlstm.boundaries = nn.ModuleList(
        ScriptedBoundary(pattern=p) for p in PATTERN[:hmlstm.num_detectors])
    return hmlstm


def test_pre_timing_gives_exact_update_copy_flush_in_the_deciding_step():
    hmlstm = pre_hmlstm()
    H, L = hmlstm.hidden_size, 3
    for cell in hmlstm.cells:  # no boundary logit in the cells
        assert cell.out_features == 4 * H
    x = torch.randn(2, len(PATTERN[0]), 5)
    state = hmlstm.initial_state(
        2, h0=torch.randn(2, L, H), c0=torch.randn(2, L, H))
    seen = [set() for _ in range(L)]
    for t in range(x.shape[1]):
        h_prev, c_prev = list(state.h), list(state.c)
        state, bounds = hmlstm.step(x[:, t], state)
        # a layer ends a segment only where the layer below ticks
        z = [PATTERN[0][t]]
        for layer in (1, 2):
            z.append(PATTERN[layer][t] * z[layer - 1])
        assert bounds.z.tolist() == [z] * 2
        for layer in range(L):
            z_below = 1 if layer == 0 else z[layer - 1]
            below = x[:, t] if layer == 0 else z_below * h_prev[layer - 1]
            parts = [h_prev[layer]]
            if layer < L - 1:  # top-down: the NEW state of the layer above
                parts.append(z[layer] * state.h[layer + 1])
            parts.append(below)
            f, i, o, g = reference_cell(hmlstm.cells[layer], H, parts, None,
                                        None)
            c, h = state.c[layer], state.h[layer]
            if z[layer] == 1:  # FLUSH at t: a fresh segment with x_t
                seen[layer].add('flush')
                torch.testing.assert_close(c, i * g)
                torch.testing.assert_close(h, o * torch.tanh(i * g))
            elif z_below == 1:  # UPDATE (the layer above: with h_{t-1})
                seen[layer].add('update')
                expected = f * c_prev[layer] + i * g
                torch.testing.assert_close(c, expected)
                torch.testing.assert_close(h, o * torch.tanh(expected))
            else:  # COPY, bit for bit
                seen[layer].add('copy')
                assert torch.equal(c, c_prev[layer])
                assert torch.equal(h, h_prev[layer])
    assert seen[0] == {'flush', 'update'}  # layer 1 never copies
    assert seen[1] == seen[2] == {'flush', 'update', 'copy'}


def test_pre_timing_hands_the_finished_segment_up():
    """z^1_t = 1: layer 2's bottom-up input is h^1_{t-1}, which has not
    seen x_t (changing x_t leaves layer 2 unchanged at t)."""
    hmlstm = pre_hmlstm(num_layers=2, top_boundary=False)
    hmlstm.boundaries = nn.ModuleList([ScriptedBoundary(pattern=[1, 1])])
    state = hmlstm.initial_state(
        2, h0=torch.randn(2, 2, 6), c0=torch.randn(2, 2, 6))
    a, _ = hmlstm.step(torch.randn(2, 5), state)
    hmlstm.boundaries[0].calls = 0
    b, _ = hmlstm.step(torch.randn(2, 5), state)
    assert torch.equal(a.h[1], b.h[1]) and not torch.equal(a.h[0], b.h[0])


@pytest.mark.parametrize('timing', ['post', 'pre'])
def test_no_boundary_stack_is_an_lstm_in_either_timing(timing):
    lstm = nn.LSTM(5, 6, num_layers=2, batch_first=True)
    hmlstm = build_hmlstm(boundary=dict(type='NoBoundary'), timing=timing)
    copy_lstm_weights(lstm, hmlstm)
    inputs = torch.randn(3, 7, 5)
    expected, _ = lstm(inputs)
    hidden, _, _ = hmlstm(inputs)
    torch.testing.assert_close(hidden[:, :, -1], expected)


@pytest.mark.parametrize('hidden_size', [None, 16], ids=['linear', 'mlp'])
def test_readout_reads_input_change_and_previous_state(hidden_size):
    hmlstm = build_hmlstm(
        timing='pre',
        change_size=3,
        readout=dict(type='BoundaryReadout', hidden_size=hidden_size))
    readout = hmlstm.readouts[0]
    assert readout.in_features == 5 + 3 + 6
    if hidden_size:
        assert readout.net[0].out_features == hidden_size
    x = torch.randn(4, 5, requires_grad=True)
    change = torch.randn(4, 3, requires_grad=True)
    state = hmlstm.initial_state(4, h0=torch.randn(4, 2, 6))
    _, bounds = hmlstm.step(x, state, change=change)
    # the logit depends on the change feature; its gradient reaches the
    # readout through the straight-through boundary
    bounds.logits.sum().backward()
    assert change.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='no change feature'):
        hmlstm.step(x, state)


def test_boundary_gradient_reaches_the_readout_through_the_cells():
    torch.manual_seed(0)
    hmlstm = build_hmlstm(
        timing='pre', readout=dict(type='BoundaryReadout', hidden_size=8))
    hidden, _, z = hmlstm(torch.randn(4, 9, 5))
    assert 0 < z[:, 0].mean() < 1
    hidden.pow(2).sum().backward()  # no loss on the logits themselves
    for p in hmlstm.readouts[0].parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_timing_is_checked():
    with pytest.raises(ValueError, match="timing must be one of"):
        MODELS.build(dict(type='HMLSTM', input_size=5, timing='late'))
    with pytest.raises(ValueError, match='hidden_size must be None'):
        MODELS.build(
            dict(type='BoundaryReadout', in_features=3, hidden_size=0))


def head_with(boundary, timing, **kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='HMANHead',
            num_classes=3,
            in_channels=4,
            num_segments=6,
            rnn=dict(
                type='HMLSTM',
                hidden_size=5,
                num_layers=2,
                boundary=boundary,
                timing=timing),
            dropout_ratio=0.0,
            **kwargs))


def sample_with_change_at_frame(frame):
    sample = ActionDataSample()
    sample.set_metainfo(
        dict(
            frame_inds=list(range(0, 12, 2)),  # 6 steps, every 2nd frame
            gt_segments=[[0, frame, 'up'], [frame, 12, 'left']]))
    return sample


@pytest.mark.parametrize('timing, step', [('post', 2), ('pre', 3)])
def test_oracle_fires_where_the_timing_needs_it(timing, step):
    """The change at frame 6 is first seen at step 3 (frame 6): the oracle
    fires at step 2 for 'post' (FLUSH at 3) and at step 3 for 'pre'."""
    head = head_with(dict(type='OracleBoundary'), timing).eval()
    sample = sample_with_change_at_frame(6)
    z = head.run(torch.randn(6, 4, 2, 2), [sample]).boundaries[0, 0]
    assert z.nonzero().flatten().tolist() == [step]
    assert head.boundary_offset(None) == step - 3


@pytest.mark.parametrize('timing, offset', [('post', -1), ('pre', 0)])
def test_segment_targets_follow_the_timing(timing, offset):
    head = head_with(
        dict(type='GumbelBoundary'),
        timing,
        loss_segment=dict(type='BoundarySupervisionLoss'))
    feats = torch.randn(6, 4, 2, 2)
    outputs = head.run(feats)
    assert outputs.boundary_offset == offset
    targets = head.losses['loss_segment'].step_targets(
        outputs, [sample_with_change_at_frame(6)])
    assert targets[0].nonzero().flatten().tolist() == [3 + offset]


def test_change_peak_targets_need_no_labels_and_follow_the_timing():
    head = head_with(
        dict(type='GumbelBoundary'),
        'pre',
        loss_segment=dict(
            type='BoundarySupervisionLoss', targets='change_peaks', rate=0.2))
    frames = torch.zeros(1, 6, 4)
    frames[:, 4:] = 1.0  # the frames change at step 4
    feats = frames.reshape(6, 4, 1, 1).expand(6, 4, 2, 2).contiguous()
    outputs = head.run(feats)
    losses = head.loss_by_labels(feats, torch.tensor([1]))
    assert torch.isfinite(losses['loss_segment'])
    targets = head.losses['loss_segment'].step_targets(outputs, None)
    assert targets[0].nonzero().flatten().tolist() == [4]


def test_change_peaks_fire_at_the_rate_and_shift_for_post():
    torch.manual_seed(0)
    frames = torch.randn(64, 16, 8) * 0.05 + 1.0
    frames[:, 9:] += 1.0  # one big change per view, at step 9
    score = frame_change_score(frames)
    assert score[:, 9].min() > score[:, 10:].max()
    peaks = PeakThreshold(rate=1 / 15).train()
    fired = peaks(score)
    assert fired[:, 9].all() and fired.sum() == 64
    assert torch.equal(shift_steps(fired, -1)[:, 8], fired[:, 9])
    detector = MODELS.build(dict(type='ChangePeakBoundary', rate=1 / 15))
    assert not detector.needs_ground_truth
    z = detector.train().schedule_scores(score, -1)
    assert z[:, 8].all() and z.sum() == 64


@pytest.mark.parametrize('score', ['map', 'frame'])
def test_change_peak_detector_in_the_head_fires_where_the_maps_change(score):
    """A change in one location of the map: the map score sees it at
    full strength; the training-free detector fires there, where
    timing='pre' needs it."""
    head = head_with(
        dict(type='ChangePeakBoundary', rate=0.2, score=score), 'pre')
    maps = torch.zeros(1, 6, 4, 2, 2)  # [V, T, C, H, W]
    maps[:, :, :, 0, 0] = 1.0
    maps[:, 4:, :, 0, 0] = 3.0  # the top-left cell changes at step 4
    outputs = head.train().run(maps.reshape(6, 4, 2, 2))
    assert outputs.boundaries[0, 0].nonzero().flatten().tolist() == [4]


def test_map_change_score_sees_a_local_change_the_frame_mean_hides():
    from hman_mmaction.models.change_features import map_change_score
    a = (torch.rand(1, 1, 9, 3) + 1.0).expand(1, 4, 9, 3)  # [V, T, K, C]
    moved = a.clone()
    moved[:, 2:] = moved[:, 2:].roll(1, dims=2)  # same mean, moved content
    frames = moved.mean(dim=2)
    assert frame_change_score(frames)[0, 2] < 1e-10
    assert map_change_score(moved)[0, 2] > 1e-3


@pytest.mark.parametrize('kinds', [('map_diff', ), ('map_change', ),
                                   ('map_diff', 'map_change')])
def test_map_signals_are_the_formulas_with_their_autograd_gradient(kinds):
    """One pass with a hand-written backward (``map_signals``) gives the
    module doc's formulas and the gradient autograd takes of them, also
    where frames repeat (``sign(0) = 0``), with ``s`` and ``sigma``
    constants."""
    from hman_mmaction.models.change_features import map_signals
    torch.manual_seed(0)
    x = torch.randn(3 * 5, 6, 4, 4, dtype=torch.float64)
    x[5:8] = x[4]  # view 1 holds still for three steps
    x.requires_grad_(True)

    def maps():  # [V, T, K, C], a view of the head's features
        return x.reshape(3, 5, 6, 16).transpose(2, 3)

    def formulas(a):
        d = a[:, 1:] - a[:, :-1]
        s = a.detach().abs().mean(dim=(1, 2), keepdim=True)  # [V, 1, 1, C]
        sigma = a.detach().abs().mean(dim=(1, 2, 3))[:, None]
        out = dict(
            map_diff=(d.abs() / s).mean(dim=2),
            map_change=d.pow(2).mean(dim=(2, 3)) / sigma**2)
        return {k: torch.cat([v[:, :1] * 0, v], dim=1) for k, v in out.items()}

    weights = dict(
        map_diff=torch.randn(3, 5, 6, dtype=torch.float64),
        map_change=torch.randn(3, 5, dtype=torch.float64))
    ours, expected = map_signals(maps(), kinds), formulas(maps())
    assert set(ours) == set(kinds)
    for kind in kinds:
        torch.testing.assert_close(ours[kind], expected[kind])
    grad, = torch.autograd.grad(
        sum((ours[k] * weights[k]).sum() for k in kinds), x)
    want, = torch.autograd.grad(
        sum((expected[k] * weights[k]).sum() for k in kinds), x)
    torch.testing.assert_close(grad, want)
    assert map_signals(maps(), ('frame_diff', 'pred_error')) == {}


def test_a_stack_without_detectors_builds_no_readout():
    """NoBoundary everywhere (the Att-LSTM baseline) with timing='pre':
    no parameter that would get no gradient (DDP refuses those)."""
    hmlstm = build_hmlstm(boundary=dict(type='NoBoundary'), timing='pre')
    assert hmlstm.readouts is None
    post = build_hmlstm(boundary=dict(type='NoBoundary'))
    assert [p.shape for p in hmlstm.parameters()
            ] == [p.shape for p in post.parameters()]


def test_a_nearly_silent_noisy_channel_does_not_bury_the_change():
    """One scale for all channels: a channel of tiny, noisy activations
    (divided by its own mean it would dominate) leaves the peak at the
    change step."""
    from hman_mmaction.models.change_features import map_change_score
    torch.manual_seed(0)
    a = torch.ones(8, 6, 4, 2)  # [V, T, K, C]
    a[:, 3:, 0, 0] = 3.0  # the change, at step 3, in channel 0
    a[..., 1] = 1e-4 * torch.rand(8, 6, 4)  # a nearly silent channel
    assert (map_change_score(a).argmax(dim=1) == 3).all()


def test_surprise_targets_come_from_the_predictor_and_need_it():
    from hman_mmaction.models.losses.boundary_supervision import surprise
    with pytest.raises(ValueError, match='predictor=dict'):
        head_with(
            dict(type='GumbelBoundary'),
            'pre',
            loss_segment=dict(
                type='BoundarySupervisionLoss',
                targets='change_peaks',
                score='pred_error'))
    head = head_with(
        dict(type='GumbelBoundary'),
        'pre',
        predictor=dict(type='NextStepPredictor', target='frame'),
        loss_predict=dict(type='NextStepPredictionLoss'),
        loss_segment=dict(
            type='BoundarySupervisionLoss',
            targets='change_peaks',
            score='pred_error',
            rate=0.2))
    feats = torch.randn(12, 4, 2, 2)
    outputs = head.run(feats)
    score = surprise(outputs.prediction_error)
    assert score.shape == (2, 6) and (score[:, 0] == 0).all()
    expected = head.predictor.error(outputs.hidden[:, 2, 0],
                                    outputs.frame_means[:, 3])
    torch.testing.assert_close(score[:, 3], expected.pow(2).mean(-1))
    targets = head.losses['loss_segment'].step_targets(outputs, None)
    assert targets.sum() > 0
    losses = head.loss_by_labels(feats, torch.tensor([0, 1]))
    assert torch.isfinite(losses['loss_segment'])
