import pytest
import torch
from mmaction.registry import MODELS


def build(attention, **extra):
    return MODELS.build(
        dict(attention, feat_channels=8, query_channels=6, **extra))


@pytest.mark.parametrize('score', ['content', 'bilinear', 'location'])
def test_soft_attention_glimpse_is_the_weighted_mean_of_locations(score):
    attention = build(dict(type='SoftAttention', score=score, num_locations=9))
    feats = torch.randn(2, 3, 9, 8)
    keys = attention.precompute(feats)
    step = attention(feats[:, 0], None if keys is None else keys[:, 0],
                     torch.randn(2, 6))
    assert torch.allclose(step.weights.sum(-1), torch.ones(2))
    expected = (step.weights.unsqueeze(-1) * feats[:, 0]).sum(1)
    assert torch.allclose(step.glimpse, expected, atol=1e-6)
    assert step.tau is None


def test_content_score_precomputes_all_steps_in_one_projection():
    attention = build(dict(type='SoftAttention', hidden_channels=5))
    keys = attention.precompute(torch.randn(2, 3, 9, 8))
    assert keys.shape == (2, 3, 9, 5)


def test_bilinear_score_is_features_dot_mapped_query():
    attention = build(dict(type='SoftAttention', score='bilinear'))
    feats, query = torch.randn(2, 3, 9, 8), torch.randn(2, 6)
    keys = attention.precompute(feats)
    assert keys is feats  # no work before the loop
    logits = attention.logits(keys[:, 1], query)
    direction = query @ attention.score.query.weight.t()  # W_b h: [2, 8]
    expected = (feats[:, 1] * direction.unsqueeze(1)).sum(-1)
    assert torch.allclose(logits, expected, atol=1e-5)
    assert not any('fold' in name for name, _ in attention.named_parameters())


def test_unknown_score_lists_the_choices():
    with pytest.raises(ValueError, match="'content', 'bilinear', 'location'"):
        build(dict(type='SoftAttention', score='dot'))


def test_location_score_rejects_a_feature_map_of_another_size():
    attention = build(
        dict(type='SoftAttention', score='location', num_locations=49))
    with pytest.raises(ValueError, match='num_locations=49'):
        attention.precompute(torch.randn(2, 3, 16, 8))


def test_location_score_requires_num_locations():
    with pytest.raises(ValueError, match='needs num_locations'):
        build(dict(type='SoftAttention', score='location'))


def test_gumbel_hard_attention_picks_exactly_one_location_in_training():
    attention = build(dict(type='GumbelHardAttention'))
    feats = torch.randn(4, 2, 9, 8)
    keys = attention.precompute(feats)
    step = attention(feats[:, 0], keys[:, 0], torch.randn(4, 6))
    assert set(step.weights.unique().tolist()) == {0.0, 1.0}
    chosen = step.weights.argmax(-1)
    assert torch.allclose(step.glimpse, feats[torch.arange(4), 0, chosen])
    assert step.tau.shape == (4, )


@pytest.mark.parametrize('mode', ['argmax', 'soft', 'sample'])
def test_gumbel_hard_attention_eval_modes(mode):
    attention = build(dict(type='GumbelHardAttention', eval_mode=mode)).eval()
    feats = torch.randn(4, 1, 9, 8)
    keys = attention.precompute(feats)
    query = torch.randn(4, 6)
    step = attention(feats[:, 0], keys[:, 0], query)
    if mode == 'argmax':
        assert torch.equal(step.weights.argmax(-1), step.probs.argmax(-1))
        assert set(step.weights.unique().tolist()) == {0.0, 1.0}
    elif mode == 'soft':
        assert torch.allclose(step.weights, step.probs)
    else:
        assert set(step.weights.unique().tolist()) == {0.0, 1.0}


def test_gumbel_hard_attention_rejects_unknown_eval_mode():
    with pytest.raises(ValueError, match='eval_mode'):
        build(dict(type='GumbelHardAttention', eval_mode='best'))


def test_soft_mix_goes_from_soft_to_hard_attention_with_its_schedule():
    attention = build(
        dict(
            type='GumbelHardAttention',
            soft_mix=dict(type='LinearDecay', start=1.0, end_iter=10)))
    feats = torch.randn(4, 1, 9, 8)
    keys = attention.precompute(feats)
    query = torch.randn(4, 6)
    # iteration 0: beta = 1, the soft attention's weights and glimpse
    step = attention(feats[:, 0], keys[:, 0], query)
    torch.testing.assert_close(step.weights, step.probs)
    # half way: beta = 0.5, half a one-hot sample plus half the softmax
    attention.soft_mix.step(5)
    step = attention(feats[:, 0], keys[:, 0], query)
    hard = step.weights - 0.5 * step.probs
    assert set((2 * hard).round(decimals=5).unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(step.weights.sum(-1), torch.ones(4))
    # from end_iter on: plain hard attention
    attention.soft_mix.step(12)
    step = attention(feats[:, 0], keys[:, 0], query)
    assert set(step.weights.unique().tolist()) == {0.0, 1.0}
    # evaluation is never mixed
    attention.soft_mix.step(0)
    step = attention.eval()(feats[:, 0], keys[:, 0], query)
    assert set(step.weights.unique().tolist()) == {0.0, 1.0}


def straight_through_gradients(attention, logits, draws):
    """Gradient of ``sum_k c_k alpha_k`` w.r.t. the logits, per draw."""
    cost = torch.linspace(-1, 1, logits.shape[-1])
    grads = []
    for _ in range(draws):
        leaf = logits.clone().requires_grad_()
        weights = attention._sample(leaf, torch.ones(1, 1))
        assert set(weights.detach().unique().tolist()) == {0.0, 1.0}
        (weights * cost).sum().backward()
        grads.append(leaf.grad)
    return torch.stack(grads)


def test_several_gumbel_samples_reduce_the_straight_through_variance():
    torch.manual_seed(0)
    logits = torch.randn(1, 9)
    variances = []
    for samples in (1, 8):
        attention = build(
            dict(type='GumbelHardAttention', num_samples=samples))
        grads = straight_through_gradients(attention, logits, 400)
        variances.append(grads.var(0).sum())
        mean = grads.mean(0)
    # the same expected gradient, about 1/S of the variance
    assert variances[1] < 0.25 * variances[0]
    reference = straight_through_gradients(
        build(dict(type='GumbelHardAttention')), logits, 2000).mean(0)
    torch.testing.assert_close(mean, reference, atol=0.02, rtol=0)


def test_num_samples_must_be_a_positive_integer():
    with pytest.raises(ValueError, match='num_samples'):
        build(dict(type='GumbelHardAttention', num_samples=0))


@pytest.mark.parametrize('kind', ['SoftAttention', 'GumbelHardAttention'])
@pytest.mark.parametrize('score', ['content', 'bilinear', 'location'])
def test_softmax_temperature_divides_the_scores(kind, score):
    """alpha = softmax(e / s): s = 0.25 raises the log-odds of any two
    locations 4-fold (the same scores, sharper weights); the argmax of
    hard attention is unchanged."""
    feats = torch.randn(2, 1, 9, 8)
    query = torch.randn(2, 6)
    steps = {}
    for s in (1.0, 0.25):
        torch.manual_seed(0)  # the same weights for both
        attention = build(
            dict(type=kind, score=score, num_locations=9),
            softmax_temperature=s).eval()
        keys = attention.precompute(feats)
        steps[s] = attention(feats[:, 0], None if keys is None else keys[:, 0],
                             query)
    log_odds = {
        s: step.probs.log() - step.probs.log()[:, :1]
        for s, step in steps.items()
    }
    torch.testing.assert_close(
        log_odds[0.25], 4 * log_odds[1.0], rtol=1e-4, atol=1e-4)
    assert torch.equal(steps[0.25].weights.argmax(-1),
                       steps[1.0].weights.argmax(-1))
    with pytest.raises(ValueError, match='softmax_temperature'):
        build(dict(type=kind, softmax_temperature=0.0))
