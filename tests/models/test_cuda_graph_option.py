"""The head's ``cuda_graphs`` option on a GPU (issue 33; skipped without
CUDA, run by ``tools/device_check.py``'s part a): a replayed training step
against the eager one (values and gradients within 1e-5 in float32, the
same hard decisions from the same noise), a smaller last batch, valid hard
Gumbel decisions at every replay, multi-view testing, a checkpoint of a
graphed run in an eager one, float16 autocast, and replays that survive
``empty_cache()``."""
import io

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from tests.helpers import default_boundary_options

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='CUDA graphs need a CUDA device')

C, T, HW, V, CLASSES = 32, 8, 7, 4, 5


def build_head(**options):
    torch.manual_seed(0)
    cfg = dict(
        type='HMANHead',
        num_classes=CLASSES,
        in_channels=C,
        num_segments=T,
        feat_channels=16,
        rnn=dict(
            type='HMLSTM',
            hidden_size=16,
            num_layers=2,
            timing='pre',
            readout=dict(type='BoundaryReadout', hidden_size=8),
            boundary=dict(
                type='GumbelBoundary',
                temperature=dict(type='AdaptiveTemperature', tau_max=1.0))),
        attention=dict(type='SoftAttention', hidden_channels=8),
        dropout_ratio=0.5,
        average_clips='prob',
        **default_boundary_options())
    cfg.update(options)
    head = MODELS.build(cfg)
    head.init_weights()
    return head.cuda().train()


def features(views=V, seed=1):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(views * T, C, HW, HW, generator=gen)
    return x.cuda().requires_grad_(True)


def samples(views):
    return [
        ActionDataSample().set_gt_label(i % CLASSES).to('cuda')
        for i in range(views)
    ]


def train_step(head, x, seed=7, dtype=None):
    """Losses, gradients and outputs of one training step (one pass) from
    CUDA RNG state ``seed``."""
    head.zero_grad(set_to_none=True)
    x.grad = None
    torch.cuda.manual_seed(seed)
    passes = []
    run = type(head).run

    def spy(*args, **kwargs):  # the step's one pass, kept for the test
        passes.append(run(head, *args, **kwargs))
        return passes[-1]

    head.run = spy
    try:
        with torch.autocast(
                'cuda', dtype=dtype or torch.float16, enabled=dtype
                is not None):
            losses = head.loss(x, samples(x.shape[0] // T))
            loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
    finally:
        del head.run
    (outputs, ) = passes
    grads = {
        n: p.grad.detach().clone()
        for n, p in head.named_parameters() if p.grad is not None
    }
    grads['input'] = x.grad.detach().clone()
    outs = {
        k: getattr(outputs, k).detach().clone()
        for k in ('cls_scores', 'boundaries', 'attention')
    }
    return {k: v.detach() for k, v in losses.items()}, grads, outs


def error(a, b):
    return ((a.double() - b.double()).abs().max() /
            b.double().abs().max().clamp_min(1e-12)).item()


def worst(a: dict, b: dict) -> float:
    assert set(a) == set(b)
    return max(error(a[k], b[k]) for k in b)


def test_cuda_graphed_step_matches_the_eager_one_in_float32():
    """T4: values and gradients within 1e-5 relative, identical hard
    decisions from the same noise, for the first replays and later ones."""
    graphed, eager = build_head(), build_head(cuda_graphs=False)
    x = features()
    for seed in (3, 4, 5):
        g_losses, g_grads, g_outs = train_step(graphed, x, seed)
        e_losses, e_grads, e_outs = train_step(eager, x, seed)
        assert torch.equal(g_outs['boundaries'], e_outs['boundaries'])
        assert worst(g_losses, e_losses) <= 1e-5
        assert worst(g_outs, e_outs) <= 1e-5
        assert worst(g_grads, e_grads) <= 1e-5
    assert len(graphed._graphs.steps) == 1
    assert all(s <= 5 for s in graphed._graphs.capture_seconds.values())


def test_cuda_the_capture_leaves_the_generator_where_eager_steps_leave_it():
    states = []
    for head in (build_head(), build_head(cuda_graphs=False)):
        for seed in (11, 12, 13):
            train_step(head, features(), seed)
        states.append(torch.cuda.get_rng_state())
    assert torch.equal(*states)


def test_cuda_a_smaller_last_batch_gets_its_own_key_and_the_eager_loss():
    graphed, eager = build_head(), build_head(cuda_graphs=False)
    for views in (V, V, 1):
        x = features(views)
        g_losses, g_grads, _ = train_step(graphed, x)
        e_losses, e_grads, _ = train_step(eager, x)
        assert worst(g_losses, e_losses) <= 1e-5
        assert worst(g_grads, e_grads) <= 1e-5
    assert sorted(k.shape[0] for k in graphed._graphs.steps) == [T, V * T]


def test_cuda_hard_gumbel_decisions_stay_valid_and_fresh_at_every_replay():
    head = build_head(
        attention=dict(
            type='GumbelHardAttention',
            hidden_channels=8,
            temperature=dict(type='AdaptiveTemperature')))
    x = features()
    seen = []
    for seed in range(6):
        _, _, outs = train_step(head, x, seed)
        weights = outs['attention'].flatten(2)  # [V, T, K]
        assert bool(((weights == 0) | (weights == 1)).all())
        assert torch.equal(weights.sum(-1), torch.ones_like(weights[..., 0]))
        z = outs['boundaries']
        assert bool(((z == 0) | (z == 1)).all())
        seen.append(torch.cat([weights.flatten(), z.flatten()]))
    assert len(head._graphs.steps) == 1
    assert any(not torch.equal(seen[0], s) for s in seen[1:])


def test_cuda_multi_view_testing_after_graphed_training_is_eager_and_equal():
    graphed, eager = build_head(), build_head(cuda_graphs=False)
    optim = torch.optim.SGD(graphed.parameters(), lr=0.1)
    for seed in range(3):
        train_step(graphed, features(seed=seed))
        optim.step()
    eager.load_state_dict(graphed.state_dict())
    x = features(views=6, seed=9).detach()  # 2 videos x 3 views
    scores = []
    for head in (graphed, eager):
        head.eval()
        with torch.no_grad():
            predicted = head.predict(x, samples(2))
        scores.append(torch.stack([p.pred_score for p in predicted]))
    assert scores[0].shape == (2, CLASSES)
    assert torch.equal(scores[0], scores[1])


def test_cuda_a_checkpoint_of_a_graphed_run_loads_in_an_eager_one():
    graphed = build_head()
    optim = torch.optim.SGD(graphed.parameters(), lr=0.1, momentum=0.9)
    for seed in range(3):
        train_step(graphed, features(seed=seed))
        optim.step()
    buffer = io.BytesIO()
    torch.save(graphed.state_dict(), buffer)
    buffer.seek(0)
    eager = build_head(cuda_graphs=False)
    missing = eager.load_state_dict(torch.load(buffer, weights_only=True))
    assert not missing.missing_keys and not missing.unexpected_keys
    x = features(seed=5)
    g_losses, g_grads, _ = train_step(graphed, x, 13)
    e_losses, e_grads, _ = train_step(eager, x, 13)
    assert worst(g_losses, e_losses) <= 1e-5
    assert worst(g_grads, e_grads) <= 1e-5


def test_cuda_graphed_step_under_float16_autocast_is_close_to_eager():
    graphed = build_head(cuda_graphs=True)
    eager = build_head(cuda_graphs=False)
    x = features()
    for seed in (1, 2):
        g_losses, g_grads, g_outs = train_step(graphed, x, seed, torch.float16)
        e_losses, e_grads, e_outs = train_step(eager, x, seed, torch.float16)
        flips = (g_outs['boundaries'] != e_outs['boundaries']).sum().item()
        if flips:  # a logit on the threshold rounds either way
            continue
        assert worst(g_losses, e_losses) <= 2e-2
        assert worst(g_grads, e_grads) <= 5e-2
    (key, ) = graphed._graphs.steps
    assert key.autocast == torch.float16


def test_cuda_replays_survive_empty_cache_with_bounded_memory():
    """T5: 50 replays with ``torch.cuda.empty_cache()`` between them: no
    CUDA error, and less than 1 GiB more allocated than after the first."""
    head = build_head()
    x = features()
    train_step(head, x)
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    for seed in range(50):
        torch.cuda.empty_cache()
        losses, _, _ = train_step(head, x, seed)
        assert all(torch.isfinite(v).all() for v in losses.values())
    torch.cuda.synchronize()
    assert torch.cuda.memory_allocated() - before < 2**30
    assert len(head._graphs.steps) == 1
