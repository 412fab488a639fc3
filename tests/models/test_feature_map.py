"""FeatureMap: the deferred map gradient (one write for all steps) equals
plain autograd over the same products, in every backward pass; and it is
written once, however many steps read the map. How the products run comes
from the head's plan (``decide_plan``), made here as the head makes it."""
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from hman_mmaction.models.feature_map import FeatureMap, RowsFrame
from hman_mmaction.models.plan import decide_plan

V, T, C, H, W, A = 2, 3, 5, 2, 3, 4
K = H * W


def feature_map(x, steps, fused=True):
    """The head's FeatureMap of ``x`` for the plan of the current state."""
    return FeatureMap(x, steps, decide_plan(fused, x))


def plain_map(x, steps):
    """The plain autograd products (what the compile plan and autocast
    take) on ``x`` itself: the Functions' plain twins."""
    fmap = feature_map(x.detach(), steps)
    fmap.deferred = False
    fmap.maps = fmap.values = x.reshape(-1, steps, *fmap.maps.shape[2:])
    return fmap


def products(fmap, weight, bias, weights, directions, steps):
    """Every product the attention takes, some steps twice, some never."""
    out = [fmap.frame_means().pow(2).sum()]
    keys = fmap.keys(weight, bias)  # [V, T, K, A]
    out.append((keys.tanh() * torch.arange(A)).sum())
    frames = fmap.frames()
    for t in steps:
        out.append(frames[t].glimpse(weights[t]).sin().sum())
        out.append(frames[t].scores(directions[t]).cos().sum())
    return sum(out)


def inputs(seed=0):
    torch.manual_seed(seed)
    x = torch.randn(V * T, C, H, W, requires_grad=True)
    weight = torch.randn(A, C, requires_grad=True)
    bias = torch.randn(A, requires_grad=True)
    weights = torch.rand(T, V, K, requires_grad=True)
    directions = torch.randn(T, V, C, requires_grad=True)
    return x, weight, bias, weights, directions


@pytest.mark.parametrize('steps', [(0, 1, 2), (2, 0, 2, 1, 2), (1, )])
@pytest.mark.parametrize('use_bias', [True, False])
def test_deferred_gradients_match_plain_autograd(steps, use_bias):
    tensors = inputs()
    x, weight, bias, weights, directions = tensors
    bias = bias if use_bias else None
    results = []
    for deferred in (True, False):
        fmap = feature_map(x, T) if deferred else plain_map(x, T)
        assert fmap.deferred == deferred
        loss = products(fmap, weight, bias, weights, directions, steps)
        grads = torch.autograd.grad(loss, [
            t for t in tensors
            if t is not None and (use_bias or t is not tensors[2])
        ])
        results.append((loss, grads))
    (loss_d, grads_d), (loss_p, grads_p) = results
    torch.testing.assert_close(loss_d, loss_p)
    for got, want in zip(grads_d, grads_p):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_the_map_is_not_copied_and_keys_are_the_linear_map():
    x, weight, bias, *_ = inputs()
    fmap = feature_map(x, T)
    rows = x.detach().reshape(V, T, C, K).transpose(2, 3)
    assert fmap.shape == rows.shape
    torch.testing.assert_close(
        fmap.keys(weight, bias),
        torch.nn.functional.linear(rows, weight, bias))
    frame = fmap.frames()[1]
    w = torch.rand(V, K)
    torch.testing.assert_close(
        frame.glimpse(w),
        RowsFrame(rows[:, 1]).glimpse(w))
    assert fmap.values.data_ptr() == x.data_ptr()


def test_passes_that_skip_the_map_leave_nothing_behind():
    """autograd.grad w.r.t. the weights only, then a full backward: the
    second pass gives the map exactly the plain gradient."""
    x, weight, bias, weights, directions = inputs()
    fmap = feature_map(x, T)
    loss = products(fmap, weight, bias, weights, directions, (0, 1, 2))
    grad_w, = torch.autograd.grad(loss, [weight], retain_graph=True)
    assert not fmap.stash.passes  # nothing stashed for the map
    loss.backward()
    deferred = x.grad.clone()
    x.grad = None
    products(plain_map(x, T), weight, bias, weights, directions,
             (0, 1, 2)).backward()
    torch.testing.assert_close(deferred, x.grad, rtol=1e-5, atol=1e-5)


class _NewTensorSizes(TorchDispatchMode):
    """Counts the ops that write a new tensor of the given sizes (views and
    in-place ops write none)."""

    def __init__(self, *numels):
        super().__init__()
        self.counts = dict.fromkeys(numels, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        outs = out if isinstance(out, (tuple, list)) else [out]
        seen = {
            a.untyped_storage().data_ptr()
            for a in list(args) + list((kwargs or {}).values())
            if torch.is_tensor(a)
        }
        for o in outs:
            if (torch.is_tensor(o) and o.numel() in self.counts
                    and o.untyped_storage().data_ptr() not in seen):
                self.counts[o.numel()] += 1
        return out


@pytest.mark.parametrize('num_steps', [2, 8])
def test_the_map_gradient_is_written_once_for_all_steps(num_steps):
    """Deferred: no frame-sized gradient per step, and a fixed number of
    map-sized writes (the map in blocks of K for the key weights' gradient,
    the key term, the one write that adds every step's terms to it);
    plain autograd: one frame-sized gradient per step and product."""
    torch.manual_seed(0)
    x = torch.randn(V * num_steps, C, H, W, requires_grad=True)
    weight = torch.randn(A, C, requires_grad=True)
    counts = {}
    for deferred in (True, False):
        fmap = (
            feature_map(x, num_steps) if deferred else plain_map(x, num_steps))
        loss = fmap.frame_means().sum() + fmap.keys(weight, None).sum()
        for frame in fmap.frames():
            loss = loss + frame.glimpse(torch.rand(V, K)).sum()
            loss = loss + frame.scores(torch.randn(V, C)).sum()
        mode = _NewTensorSizes(x.numel(), V * C * K)
        with mode:
            loss.backward()
        counts[deferred] = mode.counts
    map_writes, frame_writes = x.numel(), V * C * K
    assert counts[True][frame_writes] == 0, counts
    assert counts[True][map_writes] <= 3, counts
    assert counts[False][frame_writes] >= 2 * num_steps, counts


def test_plain_mode_without_grad_and_under_autocast():
    x, weight, bias, *_ = inputs()
    with torch.no_grad():
        assert not feature_map(x, T).deferred
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert not feature_map(x, T).deferred
    assert not feature_map(x, T, fused=False).deferred  # reference plan
    frozen = feature_map(x.detach(), T)  # frozen / cached features
    assert frozen.deferred and not frozen.map_grad
    assert feature_map(x, T).map_grad


def test_frozen_features_give_the_weights_their_plain_gradients():
    """Features that need no gradient (feature cache, frozen backbone):
    the products still run as Functions (oneDNN, deferred weights) and the
    weights and step inputs get the plain gradients."""
    x, weight, bias, weights, directions = inputs()
    x = x.detach()
    results = []
    for deferred in (True, False):
        fmap = feature_map(x, T)
        assert fmap.deferred and not fmap.map_grad
        if not deferred:
            fmap.deferred = False
        loss = products(fmap, weight, bias, weights, directions, (0, 2, 2))
        results.append(
            (loss,
             torch.autograd.grad(loss, [weight, bias, weights, directions])))
    torch.testing.assert_close(results[0][0], results[1][0])
    for got, want in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
