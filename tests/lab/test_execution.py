"""A CUDA-graph replay owns what its graph points at (issue 33): the model,
the static inputs and the outputs live as long as the replay does, so a
later capture's ``torch.cuda.empty_cache()`` cannot unmap them."""
import gc
import weakref

import pytest
import torch

from hman_lab.speed.execution import CapturedGraph, capture_cuda_graph


class FakeGraph:
    """Stands in for ``torch.cuda.CUDAGraph`` on the CPU: replay counts."""

    def __init__(self):
        self.replays = 0

    def replay(self):
        self.replays += 1


def fake_capture(call, warmup):
    for _ in range(warmup):
        call()
    return FakeGraph(), call()


def make_step():
    """A training step whose closure holds the only reference to its model
    and input (as the benchmark's cases do); weakrefs to both."""
    model = torch.nn.Linear(4, 2)
    x = torch.randn(3, 4)

    def step():
        model.zero_grad(set_to_none=True)
        loss = model(x).sum()
        loss.backward()
        return loss

    return step, weakref.ref(model), weakref.ref(x)


def test_the_replay_keeps_the_model_and_inputs_alive_while_it_lives():
    step, model, x = make_step()
    replay = capture_cuda_graph(step, warmup=2, capture=fake_capture)
    del step
    gc.collect()
    assert model() is not None and x() is not None  # owned by the replay
    assert isinstance(replay, CapturedGraph)
    assert replay() is replay.outputs and replay.graph.replays == 1
    del replay
    gc.collect()
    assert model() is None and x() is None  # and released with it


def test_the_replay_keeps_what_it_is_told_to_keep():
    module = torch.nn.Linear(2, 2)
    kept = weakref.ref(module)
    replay = CapturedGraph(FakeGraph(), lambda: None, keep=(module, ))
    del module
    gc.collect()
    assert kept() is not None and replay.keep[0] is kept()


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='CUDA graphs need a CUDA device')
def test_cuda_graph_replays_survive_empty_cache_between_replays():
    """Two captures in a row, each step dropped by the caller as the
    benchmark drops it; 50 replays of each with ``empty_cache()`` between
    replays, then each graph's loss and gradients match an eager step."""
    torch.manual_seed(0)
    replays, owners = [], []
    for _ in range(2):
        step, model, x = make_step_on('cuda')
        replays.append(capture_cuda_graph(step))
        owners.append((model, x))
        del step
        gc.collect()
        torch.cuda.empty_cache()
    for _ in range(50):
        for replay in replays:
            replay()
            torch.cuda.empty_cache()
    torch.cuda.synchronize()
    for replay, (model, x) in zip(replays, owners):
        model, x = model(), x()
        assert model is not None and x is not None
        captured = [p.grad.clone() for p in model.parameters()]
        loss = replay.outputs.clone()
        model.zero_grad(set_to_none=True)
        eager = model(x).square().mean()
        eager.backward()
        torch.testing.assert_close(loss, eager.detach())
        for grad, p in zip(captured, model.parameters()):
            torch.testing.assert_close(grad, p.grad)


def make_step_on(device):
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 8)).to(device)
    x = torch.randn(32, 64, device=device)

    def step():
        model.zero_grad(set_to_none=True)
        loss = model(x).square().mean()
        loss.backward()
        return loss

    return step, weakref.ref(model), weakref.ref(x)
