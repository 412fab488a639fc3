"""The head's training step (forward and every loss) has no graph break
and no host sync: ``torch.compile(fullgraph=True, backend='eager')`` traces
it (it raises on the first break), on both paths, for every score and
attention and the boundary kinds; the traced step gives the eager values."""
import pytest
import torch
from mmaction.registry import MODELS

NUM_CLASSES, C, T, HW, V = 5, 12, 4, 3, 3


def build_head(score, attention, boundary, fused):
    torch.manual_seed(0)
    attention = dict(
        type=attention, score=score, hidden_channels=7, num_locations=HW * HW)
    if attention['type'] == 'GumbelHardAttention':
        attention['temperature'] = dict(type='AdaptiveTemperature')
    head = MODELS.build(
        dict(
            type='HMANHead',
            num_classes=NUM_CLASSES,
            in_channels=C,
            num_segments=T,
            feat_channels=6,
            attention=attention,
            rnn=dict(
                type='HMLSTM',
                hidden_size=8,
                num_layers=2,
                boundary=dict(type=boundary)),
            loss_attention=dict(type='AttentionCoverageLoss', loss_weight=0.5),
            loss_boundary=dict(
                type='BoundaryRateLoss', loss_weight=1.0, target_rate=0.25),
            loss_aux=dict(type='CrossEntropyLoss', loss_weight=0.5),
            glimpse_residual=True,
            topk=(1, 5)))
    head.init_weights()
    head.fused_sequence = fused
    return head.train()


def step(head, x, labels):
    losses = head.loss_by_labels(x, labels)
    return sum(v for k, v in losses.items() if 'loss' in k), losses


@pytest.mark.parametrize('fused', [True, False], ids=['fast', 'reference'])
@pytest.mark.parametrize(
    'boundary', ['GumbelBoundary', 'NoBoundary', 'HardSigmoidBoundary'])
@pytest.mark.parametrize('attention', ['SoftAttention', 'GumbelHardAttention'])
@pytest.mark.parametrize('score', ['content', 'bilinear', 'location'])
def test_training_step_compiles_with_fullgraph(score, attention, boundary,
                                               fused):
    torch._dynamo.reset()
    head = build_head(score, attention, boundary, fused)
    x = torch.randn(V * T, C, HW, HW, requires_grad=True)
    labels = torch.arange(V) % NUM_CLASSES
    compiled = torch.compile(step, fullgraph=True, backend='eager')
    # dropout and Gumbel noise: compare with the same RNG state
    torch.manual_seed(7)
    loss, losses = compiled(head, x, labels)
    torch.manual_seed(7)
    eager_loss, eager_losses = step(head, x, labels)
    assert set(losses) == set(eager_losses)
    assert {'loss_cls', 'loss_attention', 'loss_aux', 'top1_acc',
            'top5_acc'} <= set(losses)
    torch.testing.assert_close(loss, eager_loss)
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_device_top_k_accuracy_matches_mmaction():
    from mmaction.evaluation import top_k_accuracy as reference

    from hman_mmaction.models.classification import top_k_accuracy
    torch.manual_seed(0)
    scores, labels = torch.randn(50, 7), torch.randint(0, 7, (50, ))
    ours = top_k_accuracy(scores, labels, (1, 3, 9))
    theirs = reference(scores.numpy(), labels.numpy(), (1, 3, 9))
    for a, b in zip(ours, theirs):
        assert a.item() == pytest.approx(b)


def test_no_unused_module_state_on_compiled_head():
    """Compiling does not leave anything on the modules either."""
    head = build_head('bilinear', 'SoftAttention', 'GumbelBoundary', True)
    before = {n: set(vars(m)) for n, m in head.named_modules()}
    compiled = torch.compile(step, fullgraph=True, backend='eager')
    compiled(head, torch.randn(V * T, C, HW, HW), torch.arange(V))
    assert {n: set(vars(m)) for n, m in head.named_modules()} == before


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')


@CUDA
def test_training_step_has_no_host_sync_on_cuda():
    head = build_head('content', 'GumbelHardAttention', 'GumbelBoundary',
                      True).cuda()
    x = torch.randn(V * T, C, HW, HW, device='cuda', requires_grad=True)
    labels = torch.arange(V, device='cuda') % NUM_CLASSES
    step(head, x, labels)[0].backward()  # lazy initialisations
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        loss, _ = step(head, x, labels)
        loss.backward()
    finally:
        torch.cuda.set_sync_debug_mode(0)


@CUDA
@pytest.mark.parametrize('fused', [True, False], ids=['fast', 'reference'])
def test_training_step_is_cuda_graph_capturable(fused):
    """Forward, losses and backward captured once and replayed (capture
    fails on any host sync or host-to-device copy)."""
    head = build_head('content', 'GumbelHardAttention', 'GumbelBoundary',
                      fused).cuda()
    x = torch.randn(V * T, C, HW, HW, device='cuda', requires_grad=True)
    labels = torch.arange(V, device='cuda') % NUM_CLASSES
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):  # warm-up on a side stream, as the docs ask
            head.zero_grad(set_to_none=True)
            step(head, x, labels)[0].backward()
    torch.cuda.current_stream().wait_stream(side)
    head.zero_grad(set_to_none=True)
    x.grad = None
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        loss, _ = step(head, x, labels)
        loss.backward()
    graph.replay()
    torch.cuda.synchronize()
    captured = {
        n: p.grad.clone()
        for n, p in head.named_parameters() if p.grad is not None
    }
    assert captured and torch.isfinite(loss)


@pytest.mark.parametrize('fused', [True, False], ids=['fast', 'reference'])
def test_scratch_recipe_levers_compile_with_fullgraph(fused):
    """The soft-to-hard mix, several Gumbel samples, the entropy term and
    the backbone warm-up add no graph break (docs/training_recipes.md)."""
    torch._dynamo.reset()
    head = build_head('content', 'GumbelHardAttention', 'GumbelBoundary',
                      fused)
    head.attention.num_samples = 3
    head.attention.soft_mix = MODELS.build(
        dict(type='LinearDecay', start=0.5, end_iter=10))
    head.losses['loss_entropy'] = MODELS.build(
        dict(type='AttentionEntropyLoss', loss_weight=0.1))
    head.backbone_warmup = MODELS.build(
        dict(type='LinearDecay', start=0.5, end_iter=10))
    x = torch.randn(V * T, C, HW, HW, requires_grad=True)
    labels = torch.arange(V) % NUM_CLASSES
    compiled = torch.compile(step, fullgraph=True, backend='eager')
    torch.manual_seed(7)
    loss, losses = compiled(head, x, labels)
    torch.manual_seed(7)
    eager_loss, _ = step(head, x, labels)
    assert 'loss_entropy' in losses
    torch.testing.assert_close(loss, eager_loss)
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
