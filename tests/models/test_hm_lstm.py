"""HMLSTM: stacked-LSTM parity and exact UPDATE / COPY / FLUSH semantics."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS


def build_hmlstm(boundary,
                 input_size=5,
                 hidden_size=6,
                 num_layers=3,
                 **kwargs):
    return MODELS.build(
        dict(
            type='HMLSTM',
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            boundary=boundary,
            **kwargs))


def copy_lstm_weights(lstm: nn.LSTM, hmlstm) -> None:
    """Copy nn.LSTM weights (gates i, f, g, o) into HMLSTM cells (gates f, i,
    o, g, then the boundary logit); top-down columns are left as they are
    (they are multiplied by z = 0)."""
    H = lstm.hidden_size
    order = [1, 0, 3, 2]  # ours f, i, o, g  <-  theirs i, f, g, o
    for layer, cell in enumerate(hmlstm.cells):
        w_ih = getattr(lstm, f'weight_ih_l{layer}')
        w_hh = getattr(lstm, f'weight_hh_l{layer}')
        bias = (
            getattr(lstm, f'bias_ih_l{layer}') +
            getattr(lstm, f'bias_hh_l{layer}'))
        with torch.no_grad():
            for ours, theirs in enumerate(order):
                rows = slice(ours * H, (ours + 1) * H)
                src = slice(theirs * H, (theirs + 1) * H)
                cell.weight[rows, :H] = w_hh[src]
                cell.weight[rows, -w_ih.shape[1]:] = w_ih[src]
                cell.bias[rows] = bias[src]


@pytest.mark.parametrize('num_layers', [1, 2, 3])
def test_no_boundary_hmlstm_equals_torch_lstm(num_layers):
    lstm = nn.LSTM(5, 6, num_layers=num_layers, batch_first=True)
    hmlstm = build_hmlstm(dict(type='NoBoundary'), num_layers=num_layers)
    copy_lstm_weights(lstm, hmlstm)
    inputs = torch.randn(4, 9, 5)
    expected, (h_n, c_n) = lstm(inputs)
    hidden, state, boundaries = hmlstm(inputs)
    assert torch.allclose(hidden[:, :, -1], expected, atol=1e-5)
    assert torch.allclose(torch.stack(state.h), h_n, atol=1e-5)
    assert torch.allclose(torch.stack(state.c), c_n, atol=1e-5)
    assert not boundaries.any()


class ScriptedBoundary(nn.Module):
    """Test double: returns a preset z per call (step), same for the batch."""

    def __init__(self, in_features=None, pattern=()):
        super().__init__()
        self.pattern = list(pattern)
        self.calls = 0

    def forward(self, z_hat, state):
        z = torch.full_like(z_hat, float(self.pattern[self.calls]))
        self.calls += 1
        return z, None

    def upward(self, z):
        return z


MODELS.register_module(module=ScriptedBoundary, force=True)

# z of layer 1 and layer 2 at steps t = 1..5 (z^0 = 1 always)
PATTERN_L1 = [1, 0, 0, 1, 0]
PATTERN_L2 = [0, 1, 0, 0, 0]


def scripted_hmlstm():
    # the old top layer with a detector (an ablation), so that its FLUSH
    # can be scripted too
    hmlstm = build_hmlstm(
        dict(type='NoBoundary'), num_layers=2, top_boundary=True)
    hmlstm.boundaries = nn.ModuleList([
        ScriptedBoundary(pattern=PATTERN_L1),
        ScriptedBoundary(pattern=PATTERN_L2)
    ])
    return hmlstm


def reference_cell(cell, H, inputs, h_prev, c_prev):
    s = cell(torch.cat(inputs, dim=-1))
    f, i, o = torch.sigmoid(s[:, :3 * H]).chunk(3, dim=-1)
    g = torch.tanh(s[:, 3 * H:4 * H])
    return f, i, o, g


def test_forced_boundaries_give_exact_update_copy_flush_per_layer():
    hmlstm = scripted_hmlstm()
    H = hmlstm.hidden_size
    x = torch.randn(3, len(PATTERN_L1), 5)
    state = hmlstm.initial_state(
        3, h0=torch.randn(3, 2, H), c0=torch.randn(3, 2, H))
    z_prev = [0, 0]
    for t in range(x.shape[1]):
        h_prev, c_prev = list(state.h), list(state.c)
        state, bounds = hmlstm.step(x[:, t], state)
        z_now = [PATTERN_L1[t], PATTERN_L2[t]]
        assert bounds.z.tolist() == [z_now] * 3
        for layer in range(2):
            if layer == 0:
                parts = [h_prev[0], z_prev[0] * h_prev[1], x[:, t]]
                z_below = 1
            else:
                parts = [h_prev[1], z_now[0] * state.h[0]]
                z_below = z_now[0]
            f, i, o, g = reference_cell(hmlstm.cells[layer], H, parts,
                                        h_prev[layer], c_prev[layer])
            c, h = state.c[layer], state.h[layer]
            if z_prev[layer] == 1:  # FLUSH
                assert torch.allclose(c, i * g, atol=1e-6)
                assert torch.allclose(h, o * torch.tanh(i * g), atol=1e-6)
            elif z_below == 1:  # UPDATE
                expected_c = f * c_prev[layer] + i * g
                assert torch.allclose(c, expected_c, atol=1e-6)
                assert torch.allclose(h, o * torch.tanh(expected_c), atol=1e-6)
            else:  # COPY: bit-for-bit the previous state
                assert torch.equal(c, c_prev[layer])
                assert torch.equal(h, h_prev[layer])
        z_prev = z_now


def test_top_layer_has_no_detector_and_never_flushes_by_default():
    """Chung et al.: no boundary detector in the last layer, z^L = 0; the
    top layer UPDATEs when the layer below fires and COPYs otherwise."""
    hmlstm = build_hmlstm(dict(type='NoBoundary'), num_layers=2)
    H = hmlstm.hidden_size
    assert hmlstm.cells[0].out_features == 4 * H + 1
    assert hmlstm.cells[1].out_features == 4 * H  # no boundary logit
    assert len(hmlstm.boundaries) == 1
    hmlstm.boundaries = nn.ModuleList([ScriptedBoundary(pattern=[1] * 8)])
    x = torch.randn(3, 8, 5)
    state = hmlstm.initial_state(3)
    for t in range(x.shape[1]):
        h_prev, c_prev = list(state.h), list(state.c)
        state, bounds = hmlstm.step(x[:, t], state)
        assert bounds.z[:, 1].eq(0).all()  # the top layer never fires
        f, i, o, g = reference_cell(hmlstm.cells[1], H,
                                    [h_prev[1], state.h[0]], h_prev[1],
                                    c_prev[1])
        # layer 1 fired at every step: the top layer UPDATEs, never FLUSHes
        assert torch.allclose(state.c[1], f * c_prev[1] + i * g, atol=1e-6)


def test_top_layer_copies_while_the_layer_below_is_silent():
    hmlstm = build_hmlstm(dict(type='NoBoundary'), num_layers=2)
    hmlstm.boundaries = nn.ModuleList([ScriptedBoundary(pattern=[0] * 4)])
    state = hmlstm.initial_state(
        2, h0=torch.randn(2, 2, 6), c0=torch.randn(2, 2, 6))
    top_h, top_c = state.h[1], state.c[1]
    for x in torch.randn(4, 2, 5):
        state, _ = hmlstm.step(x, state)
    assert torch.equal(state.h[1], top_h) and torch.equal(state.c[1], top_c)


def test_output_projection_has_the_fan_in_of_one_layer():
    """Each ``W_out^l`` is initialised as ``nn.Linear(H, out)``: bound
    1/sqrt(H), std 1/sqrt(3H) (not sqrt(out) times smaller)."""
    torch.manual_seed(0)
    hmlstm = build_hmlstm(
        dict(type='NoBoundary'), input_size=8, hidden_size=64, num_layers=2)
    weight = hmlstm.output_proj.detach()
    assert weight.abs().max() <= 64**-0.5
    assert abs(weight.std().item() / (3 * 64)**-0.5 - 1) < 0.05


def test_pattern_exercises_every_operation_in_both_layers():
    """Guards the test above: the script must hit all three cases."""
    seen = {0: set(), 1: set()}
    z_prev = [0, 0]
    for t in range(len(PATTERN_L1)):
        z_below = [1, PATTERN_L1[t]]
        for layer in range(2):
            seen[layer].add('flush' if z_prev[layer] else
                            'update' if z_below[layer] else 'copy')
        z_prev = [PATTERN_L1[t], PATTERN_L2[t]]
    assert seen[0] == {'flush', 'update'}  # layer 1 never copies (z^0 = 1)
    assert seen[1] == {'flush', 'update', 'copy'}


def test_gumbel_boundaries_are_binary_and_reach_the_boundary_logits():
    hmlstm = build_hmlstm(
        dict(
            type='GumbelBoundary',
            temperature=dict(type='AdaptiveTemperature')),
        num_layers=2)
    hidden, _, boundaries = hmlstm(torch.randn(8, 12, 5))
    assert set(boundaries.unique().tolist()) <= {0.0, 1.0}
    assert boundaries.shape == (8, 2, 12)
    hidden.sum().backward()
    boundary_rows = hmlstm.cells[0].weight.grad[-1]
    assert boundary_rows.abs().sum() > 0


def test_hard_sigmoid_boundary_is_deterministic_sign_of_logit():
    boundary = MODELS.build(dict(type='HardSigmoidBoundary', slope=2.0))
    z_hat = torch.tensor([-1.0, -0.1, 0.1, 3.0], requires_grad=True)
    z, tau = boundary(z_hat, None)
    assert z.tolist() == [0.0, 0.0, 1.0, 1.0] and tau is None
    z.sum().backward()
    # gradient of clip((a z + 1) / 2, 0, 1): a/2 inside, 0 outside
    assert z_hat.grad.tolist() == [0.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize('output, size', [('gated', 7), ('top', 6)])
def test_output_module_shapes(output, size):
    hmlstm = MODELS.build(
        dict(
            type='HMLSTM',
            input_size=5,
            hidden_size=6,
            num_layers=2,
            output=output,
            output_size=7))
    hidden, _, _ = hmlstm(torch.randn(2, 4, 5))
    assert hmlstm.output_features(hidden).shape == (2, 4, size)
    assert hmlstm.output_size == size
