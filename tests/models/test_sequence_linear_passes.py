"""SequenceLinear under every use of autograd: a backward pass that only
asks for input gradients (saliency maps, input-gradient penalties) must not
leave its per-step stash behind for the next pass (issue 14, item 8)."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from hman_mmaction.models.hm_lstm import SequenceLinear
from hman_mmaction.models.plan import decide_plan


def recurrent_loss(apply, xs):
    h = torch.zeros(3, 4)
    for x in xs:  # recurrent, so steps depend on each other
        h = torch.tanh(apply(x) + h)
    return (h**2).sum()


def weight_grads(linear, xs, use_sequence, input_pass):
    linear.zero_grad()
    apply = (
        SequenceLinear(linear, decide_plan(True, xs[0]))
        if use_sequence else linear)
    loss = recurrent_loss(apply, xs)
    input_pass(loss, xs)
    loss.backward()
    return linear.weight.grad.clone(), linear.bias.grad.clone()


def grad_wrt_inputs(loss, xs):
    torch.autograd.grad(loss, xs, retain_graph=True)


def backward_wrt_inputs(loss, xs):
    loss.backward(inputs=xs, retain_graph=True)


def grad_wrt_weight_only(loss, xs):
    pass


def test_input_only_passes_leave_the_weight_gradient_of_a_linear():
    torch.manual_seed(0)
    linear = nn.Linear(5, 4)
    xs = [torch.randn(3, 5, requires_grad=True) for _ in range(6)]
    for input_pass in (grad_wrt_inputs, backward_wrt_inputs,
                       grad_wrt_weight_only):
        expected = weight_grads(linear, xs, False, input_pass)
        got = weight_grads(linear, xs, True, input_pass)
        for a, b in zip(expected, got):
            torch.testing.assert_close(
                b, a, atol=1e-6, rtol=1e-5, msg=input_pass.__name__)


def test_weight_only_grad_then_backward_is_not_doubled():
    torch.manual_seed(0)
    linear = nn.Linear(5, 4)
    xs = [torch.randn(3, 5, requires_grad=True) for _ in range(4)]
    expected = weight_grads(linear, xs, False, grad_wrt_weight_only)[0]
    loss = recurrent_loss(SequenceLinear(linear, decide_plan(True, xs[0])), xs)
    (dw, ) = torch.autograd.grad(loss, [linear.weight], retain_graph=True)
    linear.zero_grad()
    loss.backward()
    torch.testing.assert_close(dw, expected, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(
        linear.weight.grad, expected, atol=1e-6, rtol=1e-5)


def test_head_saliency_pass_keeps_cell_and_projection_gradients():
    """The head (HM-LSTM cells + feature projection use SequenceLinear):
    ``autograd.grad(loss, x)`` then ``loss.backward()`` gives every
    parameter the gradient of a single ``loss.backward()``."""
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=3,
            in_channels=6,
            num_segments=3,
            feat_channels=5,
            dropout_ratio=0.0,
            rnn=dict(type='HMLSTM', hidden_size=4, num_layers=2),
            attention=dict(type='SoftAttention', hidden_channels=4))).eval()
    x = torch.randn(2 * 3, 6, 2, 2, requires_grad=True)

    def param_grads(saliency_first):
        head.zero_grad()
        torch.manual_seed(1)
        loss = head(x).pow(2).sum()
        if saliency_first:
            torch.autograd.grad(loss, x, retain_graph=True)
        loss.backward()
        return {
            n: p.grad.clone()
            for n, p in head.named_parameters() if p.grad is not None
        }

    single, after_saliency = param_grads(False), param_grads(True)
    assert any(n.startswith('rnn.cells') for n in single)
    assert 'feat_proj.weight' in single
    for name, grad in single.items():
        torch.testing.assert_close(
            after_saliency[name], grad, atol=1e-6, rtol=1e-5, msg=name)
