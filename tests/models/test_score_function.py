"""GumbelHardAttention(estimator='score_function') with the head's
loss_score_function (AttentionScoreFunctionLoss): the
score-function (REINFORCE) estimator with a learned baseline."""
import pytest
import torch
from mmaction.registry import MODELS

from hman_mmaction.models.losses import AttentionScoreFunctionLoss
from tests.models.test_fast_paths import HW, NUM_CLASSES, T, V, build_head

K, Q, D = 4, 6, 3
LOGITS = torch.tensor([0.5, -0.3, 1.0, 0.0])
Q_TRUE = torch.tensor([0.1, 0.3, 0.6, 0.9])  # p(y | location k)
SF = dict(type='AttentionScoreFunctionLoss')
HARD_SF = dict(
    type='GumbelHardAttention',
    estimator='score_function',
    hidden_channels=7,
    num_locations=HW * HW)


def attention(**kwargs):
    att = MODELS.build(
        dict(
            type='GumbelHardAttention',
            feat_channels=D,
            query_channels=Q,
            **kwargs))
    return att


def fixed_logits(att, logits):
    att.logits = lambda *args, **kwargs: logits.expand(args[1].shape[0], K)


def surrogate_grads(baseline, n, seed=0):
    """Per-sample gradients ``[n, K]`` of the surrogate w.r.t. the logits
    (one view, one step per sample) on the tiny problem ``R = log q_s``."""
    torch.manual_seed(seed)
    loss_fn = AttentionScoreFunctionLoss(in_features=2, baseline=baseline)
    if baseline == 'learned':  # fitted: the bias at E[R]
        with torch.no_grad():
            loss_fn.fc_baseline.bias.fill_(
                float((LOGITS.softmax(0) * Q_TRUE.log()).sum()))
    theta = LOGITS.expand(n, K).clone().requires_grad_()
    probs = theta.softmax(-1)
    sample = torch.multinomial(probs.detach(), 1)
    one_hot = torch.zeros(n, K).scatter_(1, sample, 1.0)
    q = Q_TRUE[sample.squeeze(1)]
    scores = torch.stack([q.log(), (1 - q).log()], dim=1)
    loss = loss_fn.surrogate(scores, torch.zeros(n, dtype=torch.long),
                             one_hot.view(n, 1, K, 1), probs.view(n, 1, K, 1),
                             torch.zeros(n, 1, 1, 2))
    (grad, ) = torch.autograd.grad(loss * n, theta)
    return grad


def exact_grad():
    theta = LOGITS.clone().requires_grad_()
    (grad, ) = torch.autograd.grad(-(theta.softmax(0) * Q_TRUE.log()).sum(),
                                   theta)
    return grad


@pytest.mark.parametrize('baseline', ['none', 'mean', 'learned'])
def test_estimate_is_unbiased(baseline):
    grad = surrogate_grads(baseline, 200000).mean(0)
    torch.testing.assert_close(grad, exact_grad(), atol=0.01, rtol=0.0)


def test_baseline_reduces_variance():
    none = surrogate_grads('none', 50000).var(0).sum()
    assert surrogate_grads('mean', 50000).var(0).sum() < 0.3 * none
    assert surrogate_grads('learned', 50000).var(0).sum() < 0.3 * none


def test_learned_baseline_fits_the_reward():
    torch.manual_seed(0)
    loss_fn = AttentionScoreFunctionLoss(in_features=3)
    opt = torch.optim.SGD(loss_fn.parameters(), lr=0.1)
    n = 64
    hidden = torch.randn(n, 2, 1, 3)
    scores = torch.randn(n, 5)
    probs = torch.full((n, 2, 2, 2), 0.25, requires_grad=True)
    reward = AttentionScoreFunctionLoss.reward(scores, torch.zeros(n).long())
    for _ in range(300):
        opt.zero_grad()
        loss_fn.surrogate(scores,
                          torch.zeros(n).long(), probs.detach(), probs,
                          hidden).backward()
        opt.step()
    assert abs(loss_fn.fc_baseline.bias.item() - float(reward.mean())) < 0.05


def test_no_gradient_through_the_sample():
    att = attention(estimator='score_function').train()
    logits = LOGITS.clone().requires_grad_()
    fixed_logits(att, logits)
    torch.manual_seed(0)
    step = att(torch.randn(8, K, D), None, torch.randn(8, Q))
    assert not step.weights.requires_grad
    assert torch.equal(step.weights.sum(-1), torch.ones(8))
    assert step.probs.requires_grad  # log p(s_t) for the loss
    # the straight-through estimator does pass one
    att = attention().train()
    fixed_logits(att, logits)
    assert att(torch.randn(8, K, D), None, torch.randn(8, Q)).weights \
        .requires_grad


def test_samples_follow_the_softmax():
    att = attention(estimator='score_function').train()
    fixed_logits(att, LOGITS)
    torch.manual_seed(0)
    weights = att(torch.randn(40000, K, D), None, torch.randn(40000, Q))[1]
    torch.testing.assert_close(
        weights.mean(0), LOGITS.softmax(0), atol=0.01, rtol=0.0)


def test_soft_mix_composes_and_keeps_the_sample():
    att = attention(
        estimator='score_function',
        soft_mix=dict(type='LinearDecay', start=0.5, end_iter=10)).train()
    plain = attention(estimator='score_function').train()
    logits = LOGITS.clone().requires_grad_()
    fixed_logits(att, logits)
    fixed_logits(plain, LOGITS)
    feats, query = torch.randn(64, K, D), torch.randn(64, Q)
    torch.manual_seed(0)
    step = att(feats, None, query)
    assert step.weights.requires_grad  # the soft part's gradient
    torch.manual_seed(0)
    sample = plain(feats, None, query).weights
    assert torch.equal(step.weights.argmax(-1), sample.argmax(-1))


def test_evaluation_is_unchanged():
    torch.manual_seed(0)
    feats, query = torch.randn(5, K, D), torch.randn(5, Q)
    torch.manual_seed(3)
    sf = attention(estimator='score_function').eval()
    torch.manual_seed(3)
    st = attention().eval()
    logits = torch.randn(5, K)
    sf.logits = st.logits = lambda *args, **kwargs: logits
    for a, b in zip(sf(feats, None, query), st(feats, None, query)):
        torch.testing.assert_close(a, b)


def test_head_loss_key_and_fast_path_matches_reference():
    head = build_head(HARD_SF, None, loss_score_function=SF)
    x = torch.randn(V * T, 12, HW, HW, requires_grad=True)
    labels = torch.arange(V) % NUM_CLASSES
    results = []
    for fused in (True, False):
        head.fused_sequence = fused
        head.zero_grad()
        torch.manual_seed(1)
        losses = head.loss_by_labels(x, labels)
        assert 'loss_score_function' in losses
        total = sum(v for k, v in losses.items() if k.startswith('loss'))
        grads = torch.autograd.grad(
            total, [p for p in head.parameters()] + [x], allow_unused=True)
        results.append((losses, grads))
    (fast, fast_grads), (ref, ref_grads) = results
    for key in fast:
        torch.testing.assert_close(fast[key], ref[key], msg=key)
    for a, b in zip(fast_grads, ref_grads):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    # the attention's score learns (from loss_score_function only)
    names = [n for n, _ in head.named_parameters()]
    att = [g for n, g in zip(names, fast_grads) if n.startswith('attention.')]
    assert any(g is not None and g.abs().sum() > 0 for g in att)
    base = fast_grads[names.index(
        'losses.loss_score_function.fc_baseline.bias')]
    assert base is not None and base.abs().sum() > 0


@pytest.mark.parametrize('attention_cfg, loss, match', [
    (dict(type='GumbelHardAttention'), SF, "estimator='score_function'"),
    (dict(type='SoftAttention'), SF, "estimator='score_function'"),
    (dict(type='GumbelHardAttention',
          estimator='score_function'), None, 'loss_score_function=dict')
])
def test_config_errors_name_the_fix(attention_cfg, loss, match):
    with pytest.raises(ValueError, match=match):
        build_head(attention_cfg, None, loss_score_function=loss)


def test_option_errors():
    with pytest.raises(ValueError, match='num_samples'):
        attention(estimator='score_function', num_samples=2)
    with pytest.raises(ValueError, match='estimator must be one of'):
        attention(estimator='reinforce')
    with pytest.raises(ValueError, match='baseline must be one of'):
        AttentionScoreFunctionLoss(in_features=2, baseline='ema')
