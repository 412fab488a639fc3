"""The fast path of the head (``fused_sequence=True``) gives the values and
gradients of its reference loop (``fused_sequence=False``, the formulation
as written) for every score, both attentions, every boundary kind, with and
without the input projection; the per-sequence weight gradient of the
recurrent cells (SequenceLinear) is the per-step one; nothing is kept on a
module between calls."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from hman_mmaction.models.hm_lstm import SequenceLinear
from hman_mmaction.models.plan import decide_plan

NUM_CLASSES, C, T, HW, V = 5, 12, 4, 3, 3
SCORES = ('content', 'bilinear', 'location')
ATTENTIONS = dict(
    soft=dict(type='SoftAttention'),
    hard=dict(
        type='GumbelHardAttention',
        temperature=dict(type='AdaptiveTemperature')))
BOUNDARIES = dict(
    gumbel=dict(
        type='GumbelBoundary', temperature=dict(type='AdaptiveTemperature')),
    hardsigmoid=dict(type='HardSigmoidBoundary', slope=2.0),
    none=dict(type='NoBoundary'))
SOFT = dict(type='SoftAttention', hidden_channels=7)


def build_head(attention,
               feat_channels,
               boundary=BOUNDARIES['gumbel'],
               rnn_options=None,
               **kwargs):
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=NUM_CLASSES,
            in_channels=C,
            num_segments=T,
            rnn=dict(
                type='HMLSTM',
                hidden_size=8,
                num_layers=2,
                boundary=boundary,
                **(rnn_options or {})),
            attention=attention,
            feat_channels=feat_channels,
            loss_attention=dict(type='AttentionCoverageLoss', loss_weight=0.5),
            dropout_ratio=0.0,
            **kwargs))
    head.init_weights()
    nn.init.normal_(head.fc_cls.weight)  # not ~0, so gradients are sizeable
    return head.train()


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


def run_path(head, x, fused):
    head.fused_sequence = fused
    torch.manual_seed(1)  # same Gumbel noise in both runs
    out = head.run(x)
    loss = (out.cls_scores**2).sum() + head.losses['loss_attention'](out, None)
    return out, grads(head, x, loss)


@pytest.mark.parametrize('feat_channels', [None, 6], ids=['no-proj', 'proj'])
@pytest.mark.parametrize('boundary', list(BOUNDARIES))
@pytest.mark.parametrize('attention', list(ATTENTIONS))
@pytest.mark.parametrize('score', SCORES)
def test_fast_path_matches_reference_loop_values_and_gradients(
        score, attention, boundary, feat_channels):
    head = build_head(
        dict(
            ATTENTIONS[attention],
            score=score,
            hidden_channels=7,
            num_locations=HW * HW), feat_channels, BOUNDARIES[boundary])
    assert head.fused_sequence  # the default
    x = torch.randn(V * T, C, HW, HW, requires_grad=True)
    fast, fast_grads = run_path(head, x, True)
    ref, ref_grads = run_path(head, x, False)
    for name in ('cls_scores', 'step_scores', 'attention', 'boundaries',
                 'glimpses', 'frame_means'):
        torch.testing.assert_close(
            getattr(fast, name),
            getattr(ref, name),
            rtol=1e-5,
            atol=1e-5,
            msg=name)
    assert fast.boundaries.sum() > 0 or boundary == 'none'
    assert set(fast_grads) == set(ref_grads)
    params = {n for n, p in head.named_parameters() if p.requires_grad}
    # every parameter on the path gets a gradient (the temperatures of
    # soft attention and the location score's keys are not on it)
    assert 'input' in ref_grads and len(ref_grads) > len(params) // 2
    for name, grad in ref_grads.items():
        torch.testing.assert_close(
            fast_grads[name], grad, rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize('attention', list(ATTENTIONS))
@pytest.mark.parametrize('score', SCORES)
def test_fast_path_matches_reference_loop_with_a_softmax_temperature(
        score, attention):
    """The temperature divides the scores in one place (``logits``) that
    both paths use: same values and gradients with s != 1."""
    head = build_head(
        dict(
            ATTENTIONS[attention],
            score=score,
            hidden_channels=7,
            num_locations=HW * HW,
            softmax_temperature=0.3), 6)
    x = torch.randn(V * T, C, HW, HW, requires_grad=True)
    fast, fast_grads = run_path(head, x, True)
    ref, ref_grads = run_path(head, x, False)
    for name in ('cls_scores', 'attention', 'attention_probs'):
        torch.testing.assert_close(
            getattr(fast, name), getattr(ref, name), rtol=1e-5, atol=1e-5)
    for name, grad in ref_grads.items():
        torch.testing.assert_close(
            fast_grads[name], grad, rtol=1e-4, atol=1e-5, msg=name)


def test_the_path_is_set_by_the_config():
    assert build_head(SOFT, 6).fused_sequence  # the default
    assert not build_head(SOFT, 6, fused_sequence=False).fused_sequence


def test_no_state_is_kept_on_modules_between_calls():
    """A training step leaves every module's attributes as it found them
    (nothing stored for the next call, e.g. a folded projection)."""
    for score in SCORES:
        head = build_head(dict(SOFT, score=score, num_locations=HW * HW), 6)
        before = {name: dict(vars(m)) for name, m in head.named_modules()}
        x = torch.randn(V * T, C, HW, HW, requires_grad=True)
        out = head.run(x)
        out.cls_scores.sum().backward()
        after = {name: dict(vars(m)) for name, m in head.named_modules()}
        assert after.keys() == before.keys()
        for name, attributes in before.items():
            assert after[name].keys() == attributes.keys(), (score, name)
            for key, value in attributes.items():
                if key.startswith('_') and isinstance(value, dict):
                    continue  # parameters / buffers / modules / hooks
                assert after[name][key] is value, (score, name, key)


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
    sequence = SequenceLinear(linear, decide_plan(True, xs[0]))
    assert sequence.deferred
    fast, fast_out = run(sequence)
    for a, b in zip(plain_out, fast_out):  # oneDNN vs MKL: rounding
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(plain, fast):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_sequence_linear_under_bf16_autocast_matches_linear():
    torch.manual_seed(0)
    linear = nn.Linear(8, 6)
    x = torch.randn(4, 8, requires_grad=True)
    results = []
    for sequence in (False, True):
        linear.zero_grad()
        x.grad = None
        with torch.autocast('cpu', dtype=torch.bfloat16):
            apply = SequenceLinear(linear, decide_plan(
                True, x)) if sequence else linear
            assert not sequence or apply.deferred
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
    x = torch.randn(2, 3)
    with torch.no_grad():
        sequence = SequenceLinear(linear, decide_plan(True, x))
        assert not sequence.deferred
        torch.testing.assert_close(sequence(x), linear(x))


def test_head_training_step_runs_twice_with_the_same_fast_graph_pieces():
    """Per-sequence pieces (stashes) must not leak between iterations."""
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
    torch.testing.assert_close(seen[0], seen[1])


@pytest.mark.parametrize('feat_channels', [None, 6], ids=['no-proj', 'proj'])
@pytest.mark.parametrize('attention', list(ATTENTIONS))
@pytest.mark.parametrize('score', SCORES)
def test_fast_path_matches_reference_loop_in_inference(score, attention,
                                                       feat_channels):
    """Without grad the fast path takes other products (the keys as one
    batched GEMM on the frames' strided views, plain frame products, the
    per-step layers on the plan's GEMM, oneDNN on a float32 CPU): same
    values."""
    head = build_head(
        dict(
            ATTENTIONS[attention],
            score=score,
            hidden_channels=7,
            num_locations=HW * HW), feat_channels).eval()
    x = torch.randn(V * T, C, HW, HW)
    outputs = []
    for fused in (True, False):
        head.fused_sequence = fused
        with torch.no_grad():
            outputs.append(head.run(x))
    fast, ref = outputs
    for name in ('cls_scores', 'attention', 'boundaries', 'glimpses'):
        torch.testing.assert_close(
            getattr(fast, name),
            getattr(ref, name),
            rtol=1e-5,
            atol=1e-5,
            msg=name)


@pytest.mark.parametrize('readout', [None, 8], ids=['linear', 'mlp'])
@pytest.mark.parametrize('attention', list(ATTENTIONS))
def test_fast_path_matches_reference_loop_with_the_causal_detector(
        attention, readout):
    """``timing='pre'`` with a readout over the glimpse, the change
    features and the previous state: same values and gradients."""
    head = build_head(
        dict(ATTENTIONS[attention], hidden_channels=7, num_locations=HW * HW),
        6,
        rnn_options=dict(
            timing='pre',
            readout=dict(type='BoundaryReadout', hidden_size=readout)),
        change_features=[
            'frame_absdiff', 'frame_change', 'map_diff', 'map_change'
        ])
    x = torch.randn(V * T, C, HW, HW, requires_grad=True)
    fast, fast_grads = run_path(head, x, True)
    ref, ref_grads = run_path(head, x, False)
    for name in ('cls_scores', 'boundaries', 'boundary_logits', 'glimpses'):
        torch.testing.assert_close(
            getattr(fast, name), getattr(ref, name), rtol=1e-5, atol=1e-5)
    assert 0 < fast.boundaries[:, 0].mean() < 1
    assert any(n.startswith('rnn.readouts') for n in ref_grads)
    assert set(fast_grads) == set(ref_grads)
    for name, grad in ref_grads.items():
        torch.testing.assert_close(
            fast_grads[name], grad, rtol=1e-4, atol=1e-5, msg=name)
