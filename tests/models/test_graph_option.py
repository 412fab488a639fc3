"""The head's ``cuda_graphs`` option on the CPU (issue 33): the decision
(graph or eager, and why, logged once), the shape key, the flattening of
the outputs, and the replay machinery with a CPU stand-in for the CUDA
recorder (:class:`ReplayRecorder`: a replay re-runs the captured function
and writes into the first run's tensors, as a graph replay rewrites its
static memory). What needs a GPU is in ``test_cuda_graph_option.py``."""
import contextlib
import copy
import logging
from types import SimpleNamespace

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from hman_mmaction.models import cuda_graphs, hm_lstm
from hman_mmaction.models.cuda_graphs import (DISABLED, FIELDS, HeadGraphs,
                                              eager_reason, flatten, shape_key,
                                              unflatten)
from hman_mmaction.models.plan import decide_plan
from tests.helpers import default_boundary_options

C, T, HW, V = 12, 4, 3, 2


class ReplayRecorder:
    """Stands in for ``CudaRecorder`` on the CPU: ``record`` runs the
    function now (the real capture records without running; the step
    restores the RNG and buffers either way); ``replay`` runs it again
    under the capture's autocast and writes the results into the recorded
    tensors."""

    device_type = 'cpu'

    def __init__(self):
        self.records = self.replays = 0

    def pool(self):
        return None

    def side_stream(self):
        return contextlib.nullcontext()

    def synchronize(self):
        pass

    def record(self, fn, pool):
        autocast = (torch.is_autocast_enabled('cpu'),
                    torch.get_autocast_dtype('cpu'))
        result = fn()
        self.records += 1

        def replay():
            with torch.enable_grad(), torch.autocast(
                    'cpu',
                    dtype=autocast[1],
                    enabled=autocast[0],
                    cache_enabled=False):
                fresh = fn()
            with torch.no_grad():
                for static, new in zip(result, fresh):
                    if static is not None:
                        static.copy_(new)
            self.replays += 1

        return replay, result


def build_head(recorder=None, **options):
    torch.manual_seed(0)
    cfg = dict(
        type='HMANHead',
        num_classes=5,
        in_channels=C,
        num_segments=T,
        feat_channels=6,
        rnn=dict(
            type='HMLSTM',
            hidden_size=8,
            num_layers=2,
            timing='pre',
            readout=dict(type='BoundaryReadout', hidden_size=5)),
        attention=dict(type='SoftAttention', hidden_channels=7),
        dropout_ratio=0.5,
        **default_boundary_options())
    cfg.update(options)
    head = MODELS.build(cfg)
    head.init_weights()
    if recorder is not None:
        head._graphs = HeadGraphs(recorder)
    return head.train()


def features(views=V, grad=True, seed=1):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(views * T, C, HW, HW, generator=gen)
    return x.requires_grad_(grad)


def samples(views=V):
    return [ActionDataSample().set_gt_label(i % 5) for i in range(views)]


def train_step(head, x, seed=7, autocast=None):
    """Losses, gradients (parameters and ``x``) and the outputs of one
    training step from RNG state ``seed``."""
    head.zero_grad(set_to_none=True)
    x.grad = None
    torch.manual_seed(seed)
    with torch.autocast(
            'cpu', dtype=autocast or torch.bfloat16, enabled=autocast
            is not None):
        losses = head.loss(x, samples(x.shape[0] // T))
        loss = sum(v for k, v in losses.items() if 'loss' in k)
    loss.backward()
    grads = {
        n: p.grad.clone()
        for n, p in head.named_parameters() if p.grad is not None
    }
    grads['input'] = x.grad.clone()
    return {k: v.detach() for k, v in losses.items()}, grads


def assert_same(a: dict, b: dict):
    assert set(a) == set(b)
    for name in a:
        assert torch.equal(a[name], b[name]), name


def assert_close(a: dict, b: dict, tol: float):
    """``max |a - b| / max |b| <= tol`` for every tensor."""
    assert set(a) == set(b)
    for name, value in b.items():
        scale = value.abs().max().clamp_min(1e-12)
        assert (a[name] - value).abs().max() / scale <= tol, name


# ----------------------------------------------------------- the decision
def test_the_decision_table():
    head = build_head()
    x = features()
    assert eager_reason(head, x) == 'the features are on cpu, not CUDA'
    assert eager_reason(head, x, device_type='cpu') is None
    head.eval()
    assert eager_reason(head, x, device_type='cpu').startswith('eval mode')
    head.train()
    with torch.no_grad():
        assert eager_reason(
            head, x, device_type='cpu').startswith('grad mode is off')
    head.cuda_graphs = False
    assert eager_reason(head, x, device_type='cpu') == DISABLED
    oracle = build_head(
        rnn=dict(
            type='HMLSTM',
            hidden_size=8,
            num_layers=2,
            boundary=dict(type='OracleBoundary')),
        change_features=[],
        predictor=None,
        loss_predict=None,
        loss_segment=None)
    assert 'OracleBoundary' in eager_reason(oracle, x, device_type='cpu')
    hooked = build_head()
    hooked.rnn.register_forward_hook(lambda *args: None)
    assert 'forward hook on rnn' in eager_reason(hooked, x, device_type='cpu')
    frozen = build_head()
    frozen.requires_grad_(False)
    assert eager_reason(
        frozen, features(grad=False),
        device_type='cpu') == 'nothing in the step needs a gradient'


@pytest.mark.parametrize('value', ['yes', 1.0, None])
def test_the_option_takes_auto_true_false_or_compile(value):
    with pytest.raises(ValueError, match='cuda_graphs must be'):
        build_head(cuda_graphs=value)


@pytest.mark.parametrize('option,level', [('auto', logging.INFO),
                                          (True, logging.WARNING)])
def test_on_the_cpu_the_head_runs_eagerly_and_says_why_once(
        option, level, logged, monkeypatch):
    monkeypatch.setattr(cuda_graphs, '_LOGGED', set())
    levels = []
    monkeypatch.setattr(
        cuda_graphs, 'print_log', lambda msg, logger, level:
        (levels.append(level), logged.append(msg)))
    head = build_head(cuda_graphs=option)
    reference = build_head(cuda_graphs=False)
    x = features()
    for _ in range(3):
        assert_same(*[train_step(h, x)[1] for h in (head, reference)])
    lines = [m for m in logged if 'eagerly' in m]
    assert len(lines) == 1 and 'features are on cpu' in lines[0]
    assert levels == [level]
    assert head._graphs.steps == {}
    train_step(reference, x)
    assert len([m for m in logged if 'eagerly' in m]) == 1  # False: silent


def test_the_key_holds_batch_dtype_grad_mode_and_autocast():
    head = build_head()
    x = features()
    key = shape_key(head, x, True)
    assert key.shape[0] == V * T and key.dtype == torch.float32
    assert key.grad and key.input_grad and key.autocast is None
    assert shape_key(head, features(views=1), True) != key
    assert shape_key(head, x.double(), True).dtype == torch.float64
    with torch.no_grad():
        assert not shape_key(head, x, True).grad
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert shape_key(head, x, True).autocast == torch.bfloat16
    assert shape_key(head, features(grad=False), True) != key
    assert shape_key(head, x, False) != key


def test_flatten_and_unflatten_round_trip_keeps_the_nones():
    fields = dict.fromkeys(FIELDS)
    fields.update(cls_scores=torch.ones(2), boundaries=torch.zeros(3))
    names, tensors = flatten(fields)
    assert names == ('cls_scores', 'boundaries') and len(tensors) == 2
    back = unflatten(names, tensors)
    assert set(back) == set(FIELDS)
    assert back['tau_boundary'] is None
    assert back['cls_scores'] is fields['cls_scores']


def test_the_eager_default_plan_is_the_reference_loop_on_cuda_only():
    cuda, cpu = (
        SimpleNamespace(device=torch.device(d)) for d in ('cuda', 'cpu'))
    with torch.enable_grad():
        assert decide_plan('auto', cuda).path == 'reference'
        assert decide_plan('auto', cpu).path == 'fast'
        assert decide_plan(True, cuda).path == 'fast'
        assert decide_plan(False, cpu).path == 'reference'
    head = build_head()
    assert head.fused_sequence == 'auto' and head.cuda_graphs == 'auto'


# ---------------------------------------------------------- the eager path
def _old_cell(self, layer, cells, parts, flush, z_below, h_prev, c_prev):
    """``HMLSTM._cell`` before issue 33 (constant masks as ops)."""
    H = self.hidden_size
    s = cells[layer](torch.cat(parts, dim=-1))
    f, i, o = torch.sigmoid(s[:, :3 * H]).chunk(3, dim=-1)
    g = torch.tanh(s[:, 3 * H:4 * H])
    if flush is None:
        flush = torch.zeros_like(h_prev[:, :1])
    if z_below is None:
        update, copy = 1.0 - flush, 0.0
    else:
        update = (1.0 - flush) * z_below
        copy = (1.0 - flush) * (1.0 - z_below)
    c = (1.0 - copy) * (i * g) + (update * f + copy) * c_prev
    h = (1.0 - copy) * (o * torch.tanh(c)) + copy * h_prev
    return h, c, s


@pytest.mark.parametrize('timing', ['pre', 'post'])
@pytest.mark.parametrize('fused', [True, False], ids=['fast', 'reference'])
def test_the_eager_step_is_bit_identical_to_the_head_before_the_option(
        timing, fused, monkeypatch):
    """Without the masks' constant ops the training step gives exactly the
    old values (losses) and the old gradients up to the order in which
    autograd sums them; with the option on, on a CPU, exactly the
    option-off step."""
    rnn = dict(type='HMLSTM', hidden_size=8, num_layers=3, timing=timing)
    x = features()
    new = train_step(build_head(rnn=rnn, fused_sequence=fused), x)
    off = train_step(
        build_head(rnn=rnn, fused_sequence=fused, cuda_graphs=False), x)
    for a, b in zip(new, off):
        assert_same(a, b)
    monkeypatch.setattr(hm_lstm.HMLSTM, '_cell', _old_cell)
    old = train_step(
        build_head(rnn=rnn, fused_sequence=fused, cuda_graphs=False), x)
    assert_same(new[0], old[0])
    assert_close(new[1], old[1], 1e-5)


# ----------------------------------------- the replay (CPU stand-in)
def test_a_replayed_step_gives_the_eager_values_gradients_and_noise():
    recorder = ReplayRecorder()
    graphed = build_head(recorder)
    eager = build_head(cuda_graphs=False)
    x = features()
    for seed in (7, 8, 9):
        assert_same(
            train_step(graphed, x, seed)[0],
            train_step(eager, x, seed)[0])
        assert_same(
            train_step(graphed, x, seed)[1],
            train_step(eager, x, seed)[1])
    assert len(graphed._graphs.steps) == 1
    assert recorder.records == 2  # forward and backward, once
    assert recorder.replays == 2 * 6
    assert all(s >= 0 for s in graphed._graphs.capture_seconds.values())


def test_under_autocast_the_replay_gives_the_eager_values():
    """The capture runs with the autocast cache off: every use of a weight
    casts it (a cached cast would be replayed stale), so the weight's
    gradient is summed in float32 rather than in the cast's dtype."""
    graphed = build_head(ReplayRecorder())
    eager = build_head(cuda_graphs=False)
    x = features()
    for _ in range(2):
        losses, grads = train_step(graphed, x, autocast=torch.bfloat16)
        eager_losses, eager_grads = train_step(
            eager, x, autocast=torch.bfloat16)
        assert_same(losses, eager_losses)
        assert_close(grads, eager_grads, 2e-2)
    (key, ), = [list(graphed._graphs.steps)]
    assert key.autocast == torch.bfloat16


def test_the_capture_consumes_no_noise_and_changes_no_buffer():
    """Steps with SGD updates: the same parameters, buffers and RNG state
    after the graphed run as after the eager one (a resumed run, which
    captures again, draws what the uninterrupted run drew)."""
    runs = []
    for head in (build_head(ReplayRecorder()), build_head(cuda_graphs=False)):
        optim = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
        torch.manual_seed(3)
        losses = []
        for step in range(3):
            x = features(seed=step)
            head.zero_grad(set_to_none=True)
            out = head.loss(x, samples())
            loss = sum(v for k, v in out.items() if 'loss' in k)
            loss.backward()
            optim.step()
            losses.append(loss.detach())
        runs.append((losses, head.state_dict(), torch.get_rng_state()))
    (l1, s1, r1), (l2, s2, r2) = runs
    assert all(torch.equal(a, b) for a, b in zip(l1, l2))
    assert_same(s1, s2)
    assert torch.equal(r1, r2)


def test_a_smaller_last_batch_gets_its_own_key_and_the_eager_loss():
    graphed = build_head(ReplayRecorder())
    eager = build_head(cuda_graphs=False)
    for views in (V + 1, V + 1, 1, V + 1):
        x = features(views=views)
        for a, b in zip(train_step(graphed, x), train_step(eager, x)):
            assert_same(a, b)
    keys = list(graphed._graphs.steps)
    assert sorted(k.shape[0] for k in keys) == [T, (V + 1) * T]


def test_gradients_accumulate_over_steps_as_eager_ones_do():
    """The replay hands back copies: a second backward does not rewrite the
    first one's gradients."""
    heads = build_head(ReplayRecorder()), build_head(cuda_graphs=False)
    grads = []
    for head in heads:
        head.zero_grad(set_to_none=True)
        torch.manual_seed(5)
        for seed in (1, 2):
            out = head.loss(features(seed=seed), samples())
            sum(v for k, v in out.items() if 'loss' in k).backward()
        grads.append({n: p.grad for n, p in head.named_parameters()})
    assert_same(*grads)


def test_a_second_forward_before_the_backward_runs_eagerly(
        logged, monkeypatch):
    monkeypatch.setattr(cuda_graphs, '_LOGGED', set())
    graphed = build_head(ReplayRecorder())
    eager = build_head(cuda_graphs=False)
    grads = []
    for head in (graphed, eager):
        head.zero_grad(set_to_none=True)
        torch.manual_seed(5)
        first = head.loss(features(seed=1), samples())
        second = head.loss(features(seed=2), samples())
        total = sum(v for k, v in first.items() if 'loss' in k) + sum(
            v for k, v in second.items() if 'loss' in k)
        total.backward()
        grads.append({n: p.grad for n, p in head.named_parameters()})
    assert_close(*grads, 1e-6)  # summed in another order
    assert any("the first one's backward" in m for m in logged)
    # once that backward ran, the next step replays again
    recorder = graphed._graphs.recorder
    replays = recorder.replays
    train_step(graphed, features())
    assert recorder.replays == replays + 2


def test_moved_parameters_are_captured_again():
    recorder = ReplayRecorder()
    head = build_head(recorder)
    x = features()
    train_step(head, x)
    head.fc_cls.weight.data = head.fc_cls.weight.data.clone()
    eager = build_head(cuda_graphs=False)
    eager.load_state_dict(head.state_dict())
    assert_same(train_step(head, x)[1], train_step(eager, x)[1])
    assert recorder.records == 4


def test_checkpoints_and_copies_carry_no_graph():
    head = build_head(ReplayRecorder())
    keys = set(head.state_dict())
    train_step(head, features())
    assert set(head.state_dict()) == keys
    assert not any('graph' in k for k in keys)
    twin = copy.deepcopy(head)
    assert twin._graphs.steps == {} and head._graphs.steps != {}
    eager = build_head(cuda_graphs=False)
    eager.load_state_dict(head.state_dict())
    assert_same(
        train_step(twin, features())[0],
        train_step(eager, features())[0])


def test_multi_view_testing_runs_eagerly_and_averages_views():
    head = build_head(ReplayRecorder(), average_clips='prob').eval()
    x = features(views=6, grad=False)
    data = samples(2)
    with torch.no_grad():
        predicted = head.predict(x, data)
    assert head._graphs.steps == {}
    assert predicted[0].pred_score.shape == (5, )


def test_a_resumed_graphed_run_draws_what_the_uninterrupted_one_drew():
    """Exact resume under graphs: a run stopped after two steps and resumed
    in a fresh head (which captures again) from the weights, the optimizer
    and the RNG state gives the uninterrupted run's losses."""

    def steps(head, optim, seeds):
        losses = []
        for seed in seeds:
            head.zero_grad(set_to_none=True)
            out = head.loss(features(seed=seed), samples())
            loss = sum(v for k, v in out.items() if 'loss' in k)
            loss.backward()
            optim.step()
            losses.append(loss.detach())
        return losses

    head = build_head(ReplayRecorder())
    optim = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    torch.manual_seed(21)
    straight = steps(head, optim, range(4))

    head = build_head(ReplayRecorder())
    optim = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    torch.manual_seed(21)
    first = steps(head, optim, range(2))
    saved = (copy.deepcopy(head.state_dict()),
             copy.deepcopy(optim.state_dict()), torch.get_rng_state())
    resumed = build_head(ReplayRecorder())
    resumed.load_state_dict(saved[0])
    optim = torch.optim.SGD(resumed.parameters(), lr=0.1, momentum=0.9)
    optim.load_state_dict(saved[1])
    torch.manual_seed(99)  # whatever ran in between
    torch.set_rng_state(saved[2])
    second = steps(resumed, optim, range(2, 4))
    assert resumed._graphs.steps  # captured again
    assert all(torch.equal(a, b) for a, b in zip(straight, first + second))
