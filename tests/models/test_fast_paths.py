"""The fast forms of the head give the values and gradients of the plain
formulation: the glimpse taken on raw features and projected afterwards
(projection folded into the attention keys), and the per-sequence weight
gradient of the recurrent cells (SequenceLinear)."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from hman_mmaction.models.hm_lstm import SequenceLinear

NUM_CLASSES, C, T, HW, V = 5, 12, 4, 3, 3
SOFT = dict(type='SoftAttention', hidden_channels=7)
HARD = dict(
    type='GumbelHardAttention',
    hidden_channels=7,
    temperature=dict(type='AdaptiveTemperature'))
BILINEAR = dict(type='SoftAttention', score='bilinear')
HARD_BILINEAR = dict(HARD, score='bilinear')
RNN = dict(
    type='HMLSTM',
    hidden_size=8,
    num_layers=2,
    boundary=dict(
        type='GumbelBoundary', temperature=dict(type='AdaptiveTemperature')))


def build_head(attention, feat_channels):
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=NUM_CLASSES,
            in_channels=C,
            num_segments=T,
            rnn=RNN,
            attention=attention,
            feat_channels=feat_channels,
            att_reg_weight=0.5,
            dropout_ratio=0.0))
    head.init_weights()
    nn.init.normal_(head.fc_cls.weight)  # not ~0, so gradients are sizeable
    return head.train()


def reference_run(head, x):
    """The plain formulation from public pieces: project every location,
    keys of the projected features, one ``nn.Linear`` call per cell and
    step (no SequenceLinear, no folding)."""
    feats = head._views(x)  # feat_proj applied to all locations
    keys = head.attention.precompute(feats)
    state = head._initial_state(feats)
    hidden, weights = [], []
    for t in range(T):
        query = torch.cat(state.h, dim=-1)
        glance = head.attention(feats[:, t],
                                None if keys is None else keys[:, t], query)
        state, _ = head.rnn.step(glance.glimpse, state)
        hidden.append(torch.stack(state.h, dim=1))
        weights.append(glance.weights)
    step_scores = head.fc_cls(
        head.rnn.output_features(torch.stack(hidden, dim=1)))
    return step_scores.mean(1), torch.stack(weights, 1)


def grads(head, x, loss):
    head.zero_grad()
    x.grad = None
    loss.backward()
    named = {
        n: p.grad.clone()
        for n, p in head.named_parameters() if p.grad is not None
    }
    named['input'] = x.grad.clone()
    return named


@pytest.mark.parametrize('feat_channels', [None, 6], ids=['no-proj', 'proj'])
@pytest.mark.parametrize(
    'attention', [SOFT, HARD, BILINEAR, HARD_BILINEAR],
    ids=['soft', 'hard', 'soft-bilinear', 'hard-bilinear'])
def test_fast_head_matches_plain_formulation_values_and_gradients(
        attention, feat_channels):
    head = build_head(attention, feat_channels)
    x = torch.randn(V * T, C, HW, HW, requires_grad=True)
    torch.manual_seed(1)  # same Gumbel noise in both runs
    fast = head.run(x)
    penalty = head.attention_penalty(fast.attention)
    fast_grads = grads(head, x, (fast.cls_scores**2).sum() + penalty)
    torch.manual_seed(1)
    scores, weights = reference_run(head, x)
    penalty = head.attention_penalty(weights)
    ref_grads = grads(head, x, (scores**2).sum() + penalty)
    assert torch.allclose(fast.cls_scores, scores, atol=1e-5)
    assert torch.allclose(fast.attention.flatten(2), weights, atol=1e-6)
    assert set(fast_grads) == set(ref_grads)
    for name, grad in ref_grads.items():
        assert grad.abs().sum() > 0, name
        assert torch.allclose(
            fast_grads[name], grad, rtol=1e-4, atol=1e-5), name


def test_sequence_linear_gives_the_gradients_of_a_linear_per_step():
    torch.manual_seed(0)
    linear = nn.Linear(5, 4)
    xs = [torch.randn(3, 5, requires_grad=True) for _ in range(6)]
    cotangents = [torch.randn(3, 4) for _ in xs]

    def run(apply):
        linear.zero_grad()
        for x in xs:
            x.grad = None
        h = torch.zeros(3, 4)
        outs = []
        for x in xs:  # recurrent, so steps depend on each other
            h = torch.tanh(apply(x) + h)
            outs.append(h)
        sum((o * c).sum() for o, c in zip(outs, cotangents)).backward()
        return ([linear.weight.grad.clone(),
                 linear.bias.grad.clone()] + [x.grad.clone()
                                              for x in xs], outs)

    plain, plain_out = run(linear)
    sequence = SequenceLinear(linear)
    fast, fast_out = run(sequence)
    for a, b in zip(plain_out, fast_out):
        assert torch.equal(a, b)
    for a, b in zip(plain, fast):
        assert torch.allclose(a, b, atol=1e-6)


def test_sequence_linear_under_bf16_autocast_matches_linear():
    torch.manual_seed(0)
    linear = nn.Linear(8, 6)
    x = torch.randn(4, 8, requires_grad=True)
    results = []
    for apply in (linear, SequenceLinear(linear)):
        linear.zero_grad()
        x.grad = None
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = apply(x)
        assert out.dtype == torch.bfloat16
        out.float().sum().backward()
        assert linear.weight.grad.dtype == torch.float32
        assert x.grad.dtype == torch.float32
        results.append(
            (out.float(), linear.weight.grad.clone(), x.grad.clone()))
    for a, b in zip(*results):
        assert torch.allclose(a, b, atol=1e-2, rtol=1e-2)


def test_sequence_linear_is_plain_linear_without_grad_mode():
    linear = nn.Linear(3, 2)
    with torch.no_grad():
        sequence = SequenceLinear(linear)
        assert not sequence.deferred
        x = torch.randn(2, 3)
        assert torch.equal(sequence(x), linear(x))


def test_head_training_step_runs_twice_with_the_same_fast_graph_pieces():
    """Per-sequence state (stashes) must not leak between iterations."""
    head = build_head(SOFT, 6)
    x = torch.randn(V * T, C, HW, HW)
    samples = [ActionDataSample().set_gt_label(i) for i in range(V)]
    seen = []
    for _ in range(2):
        torch.manual_seed(3)  # same Gumbel noise
        head.zero_grad()
        losses = head.loss(x, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        seen.append(head.rnn.cells[0].weight.grad.clone())
    assert head.rnn._step_cells is None
    assert torch.allclose(seen[0], seen[1])
