"""The head's training step compiled with ``torch.compile``'s default
backend (Inductor, on the CPU) gives the values and gradients of the eager
reference loop: the ``'compile'`` plan (the fast path's algebra as plain
ops, the backward built by the compiler) and the reference loop compiled.
Inductor draws its own random numbers unless ``fallback_random`` is set:
it is, so the Gumbel noise is eager's."""
import pytest
import torch
from mmaction.registry import MODELS

from tests.models.test_graph_breaks import HW, NUM_CLASSES, C, T, V

pytestmark = pytest.mark.slow


def build_head(fused):
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=NUM_CLASSES,
            in_channels=C,
            num_segments=T,
            feat_channels=6,
            attention=dict(
                type='SoftAttention', score='content', hidden_channels=7),
            rnn=dict(
                type='HMLSTM',
                hidden_size=8,
                num_layers=2,
                boundary=dict(
                    type='GumbelBoundary',
                    temperature=dict(type='AdaptiveTemperature'))),
            loss_attention=dict(type='AttentionCoverageLoss', loss_weight=0.5),
            dropout_ratio=0.0,
            fused_sequence=fused))
    head.init_weights()
    torch.nn.init.normal_(head.fc_cls.weight)  # sizeable gradients
    return head.train()


def step(head, x, labels):
    losses = head.loss_by_labels(x, labels)
    return sum(v for k, v in losses.items() if 'loss' in k)


def loss_and_grads(head, x, labels, fn):
    head.zero_grad(set_to_none=True)
    x.grad = None
    torch.manual_seed(7)
    loss = fn(head, x, labels)
    loss.backward()
    grads = {
        n: p.grad.clone()
        for n, p in head.named_parameters() if p.grad is not None
    }
    grads['input'] = x.grad.clone()
    return loss.detach(), grads


@pytest.mark.parametrize('fused', [True, False], ids=['fast', 'reference'])
def test_inductor_training_step_matches_the_eager_reference(fused):
    import torch._inductor.config as inductor
    from torch._dynamo.utils import counters
    torch._dynamo.reset()
    counters.clear()
    x = torch.randn(V * T, C, HW, HW, requires_grad=True)
    labels = torch.arange(V) % NUM_CLASSES
    reference = build_head(False)
    want_loss, want = loss_and_grads(reference, x, labels, step)
    head = build_head(fused)
    with inductor.patch(fallback_random=True):
        compiled = torch.compile(step)  # default backend: Inductor
        loss, got = loss_and_grads(head, x, labels, compiled)
    assert counters['stats']['unique_graphs'] >= 1  # it did compile
    torch.testing.assert_close(loss, want_loss, rtol=1e-5, atol=1e-5)
    assert set(got) == set(want) and len(want) > 10
    for name, grad in want.items():
        torch.testing.assert_close(
            got[name], grad, rtol=1e-4, atol=1e-5, msg=name)
