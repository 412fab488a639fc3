"""What a CUDA graph of the head's training step needs, checked on the CPU
(issue 33: CI has no GPU, and the CPU stand-in recorder of
``test_graph_option.py`` re-runs Python at every replay, so it cannot see
either failure below).

``cuda_graphs`` captures :meth:`HMANHead._tensors` and its backward
(``torch.autograd.grad`` to the features and the trainable parameters).
For every graph-eligible HM-AN head of ``configs/``:

1. **No host traffic.** On CUDA, a capture fails on a host sync
   (``.item()``, ``nonzero``, a data-dependent branch) and on a copy from
   the host (``torch.tensor(..., device=x.device)``). The step is traced on
   the ``meta`` device (where the head runs CUDA's code; its plan is told
   the autocast dtype), under :func:`host_traffic`: a data-dependent op
   raises on ``meta``, and every op that touches a host tensor or puts
   host data on the device is recorded. CUDA's loop in float32 and
   under fp16 autocast, and the fast loop.
2. **The same program at every iteration.** A graph bakes in every Python
   number and every tensor it read at capture. ``make_fx`` traces of the
   step at iteration 0 and after an optimizer step and the schedules'
   step to iteration 500 (``GumbelTemperatureHook``) have the same code,
   and every tensor they read is a parameter or buffer of the head, read
   where the optimizer, the hooks and ``load_state_dict`` write it.
"""
import contextlib
import glob
import os

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from torch.fx.experimental.proxy_tensor import make_fx
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from hman_mmaction.engine.hooks import scheduled_modules
from hman_mmaction.models import plan
from hman_mmaction.models.cuda_graphs import eager_reason, flatten

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
COPIES = {'aten._to_copy.default', 'aten.copy_.default', 'aten.copy.default'}


def head_configs():
    """``{resolved cls_head text: first config file}`` for every config
    whose head is an ``HMANHead``."""
    heads = {}
    for path in sorted(glob.glob(f'{ROOT}/configs/**/*.py', recursive=True)):
        if '/_base_/' in path:
            continue
        head = Config.fromfile(path).model.get('cls_head', {})
        if head.get('type') == 'HMANHead':
            heads.setdefault(repr(head.to_dict()), path)
    return heads


HEADS = head_configs()
CONFIGS = sorted(HEADS.values())
#: the default config (the UCF101 head) and the configs with a schedule
SCHEDULED = [
    'configs/hman_demo.py',
    'configs/demo/ablations/hman-annealed-tau_demo.py',
    'configs/demo/ablations/hman-hardsigmoid-bnd_demo.py',
    'configs/demo/hman-hard-att_scratch_demo.py',
]


def build_head(path, device=None, **sizes):
    cfg = Config.fromfile(path).model.cls_head
    for dotted, value in sizes.items():
        *parents, name = dotted.split('.')
        node = cfg
        for parent in parents:
            node = node.get(parent) or {}
        if name in node:
            node[name] = value
    torch.manual_seed(0)
    with torch.device(device or 'cpu'):
        head = MODELS.build(cfg)
        head.init_weights()
    return head.train()


def graphed_step(head, x):
    """The function ``cuda_graphs`` captures: the forward
    (``GraphedStep``'s ``forward``) and the gradients of its outputs
    (its ``backward``, here with ones as the outputs' gradients)."""
    _, outputs = flatten(head._tensors(x, None, True))
    outputs = [o for o in outputs if o.requires_grad]
    inputs = [x] + [p for p in head.parameters() if p.requires_grad]
    grads = torch.autograd.grad(
        outputs,
        inputs, [torch.ones_like(o) for o in outputs],
        allow_unused=True)
    return outputs, [g for g in grads if g is not None]


FROM_DATA = {'tensor', 'as_tensor', 'asarray', 'new_tensor'}


class HostData(TorchFunctionMode):
    """Records ``torch.tensor``-like calls that put host data on the device
    (on ``meta`` they skip the copy a CUDA tensor makes)."""

    def __init__(self, found):
        super().__init__()
        self.found = found

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, '__name__', '')
        if name in FROM_DATA:
            data = args[1] if name == 'new_tensor' else args[0]
            device = kwargs.get('device') or (args[0].device if name
                                              == 'new_tensor' else 'cpu')
            device = torch.device(device)
            on_device = isinstance(data, torch.Tensor) and (data.device
                                                            == device)
            if device.type != 'cpu' and not on_device:
                self.found.append(f'torch.{name} of host data on {device}')
        return func(*args, **kwargs)


class HostOps(TorchDispatchMode):
    """Records every op of a ``meta``-device step that touches a host
    tensor: a copy between host and device, or any other op on a host
    tensor other than a number-like 0-dim operand of a device op."""

    def __init__(self, found):
        super().__init__()
        self.found = found

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func is torch.ops.prim.device.default:
            return out
        tensors = [
            t for t in tree_leaves((args, kwargs, out))
            if isinstance(t, torch.Tensor)
        ]
        host = [t for t in tensors if t.device.type == 'cpu']
        on_device = len(host) < len(tensors)
        operands_only = all(t.dim() == 0 for t in host) and on_device
        if host and (str(func) in COPIES or not operands_only):
            where = [(t.device.type, tuple(t.shape)) for t in tensors]
            self.found.append(f'{func} on {where}')
        return out


@contextlib.contextmanager
def host_traffic():
    """The list of what the ops run inside touched on the host
    (:class:`HostData`, :class:`HostOps`); an op that needs a value on
    the host raises (``meta`` tensors have none)."""
    found = []
    with HostData(found), HostOps(found):
        yield found


@pytest.fixture
def meta_as_cuda(monkeypatch):
    """The head's plan sees the autocast dtype the test sets in the
    returned ``state['autocast']`` (None: off) for ``meta`` tensors, as it
    would see CUDA's (autocast itself has no ``meta`` device: its ops stay
    in their dtype)."""
    state = dict(autocast=None)
    real = plan.call_state

    def call_state(device):
        found = real(device)
        if device != 'meta':
            return found
        return found._replace(autocast=state['autocast'])

    monkeypatch.setattr(plan, 'call_state', call_state)
    return state


def test_every_hman_config_is_checked():
    for path in ('configs/hman_demo.py', 'configs/hman_ucf101.py'):
        head = Config.fromfile(os.path.join(ROOT, path)).model.cls_head
        assert repr(head.to_dict()) in HEADS
    assert len(CONFIGS) >= 20


#: CUDA's loop ('auto') in float32 and under fp16 autocast; the fast loop
#: (``fused_sequence=True``) in float32
PLANS = [(False, None), (False, torch.float16), (True, None)]


@pytest.mark.parametrize(
    'fused,autocast', PLANS, ids=['reference-fp32', 'reference-fp16', 'fast'])
@pytest.mark.parametrize(
    'path', CONFIGS, ids=[os.path.relpath(p, ROOT) for p in CONFIGS])
def test_captured_step_has_no_host_sync_or_copy(path, fused, autocast,
                                                meta_as_cuda):
    head = build_head(path, device='meta')
    reason = eager_reason(head, torch.empty(0, device='meta'), 'meta')
    if reason is not None:
        pytest.skip(f'runs eagerly on CUDA: {reason}')
    head.fused_sequence = fused
    meta_as_cuda['autocast'] = autocast
    x = torch.randn(
        2 * head.num_segments,
        head.in_channels,
        3,
        3,
        device='meta',
        requires_grad=True)
    with host_traffic() as found:
        outputs, grads = graphed_step(head, x)
    assert outputs and grads
    assert found == []


@pytest.mark.parametrize('path',
                         ['configs/hman_ucf101.py', 'configs/hman_demo.py'])
def test_default_training_step_has_no_host_sync_or_copy(path, meta_as_cuda):
    """What stays eager around the replay (the losses, the change-peak
    targets' threshold) and its backward: a host sync there would stall
    every training step (issue 33, T2)."""
    head = build_head(os.path.join(ROOT, path), device='meta')
    head.fused_sequence = False
    x = torch.randn(
        2 * head.num_segments,
        head.in_channels,
        3,
        3,
        device='meta',
        requires_grad=True)
    labels = torch.zeros(2, dtype=torch.long, device='meta')
    with host_traffic() as found:
        losses = head.loss_by_labels(x, labels)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert {'loss_cls', 'loss_segment', 'loss_predict'} <= set(losses)
    assert found == []


def test_host_traffic_finds_copies_host_work_and_syncs():
    x, two = torch.ones(3, device='meta'), torch.tensor(2.0)
    with host_traffic() as found:
        x * two  # a 0-dim host operand: a kernel argument
        torch.as_tensor(x, device=x.device)  # already there
        assert found == []
        x + torch.tensor(0.5, device=x.device)  # a copy from the host
        x.new_tensor([1.0, 2.0, 3.0])  # a copy from the host
        x + torch.ones(3).to(x.device)  # a copy from the host
        torch.zeros(2) + 1  # host work
    assert [f.split(' on ')[0] for f in found] == [
        'torch.tensor of host data', 'torch.new_tensor of host data',
        'aten.ones.default', 'aten._to_copy.default', 'aten.zeros.default',
        'aten.add.Tensor'
    ]
    with pytest.raises(Exception), host_traffic():
        bool(x.sum() > 0)  # a host sync: no value on meta


def traced(head, x):
    gm = make_fx(graphed_step)(head, x)
    read = {
        name: getattr(gm, name)
        for name in dir(gm)
        if name.startswith(('_param_constant', '_tensor_constant'))
    }
    return gm.code, read


@pytest.mark.parametrize('path', SCHEDULED)
def test_captured_step_is_the_same_program_at_every_iteration(path):
    head = build_head(
        os.path.join(ROOT, path),
        in_channels=12,
        **{
            'rnn.hidden_size': 8,
            'rnn.readout.hidden_size': 5,
            'attention.hidden_channels': 7,
        })
    head.fused_sequence = False  # CUDA's loop ('auto')
    x = torch.randn(2 * head.num_segments, 12, 3, 3, requires_grad=True)
    code, read = traced(head, x)

    # what happens between two captures' replays: the hooks, an optimizer
    # step, a checkpoint loaded in place
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    losses = head.loss_by_labels(x.detach(), torch.tensor([0, 1]))
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    optimizer.step()
    scheduled = list(scheduled_modules(head))
    for _, module in scheduled:
        module.step(500)
    head.load_state_dict(head.state_dict())
    later_code, later_read = traced(head, x)

    assert later_code == code
    owned = {
        id(t): name
        for name, t in (*head.named_parameters(), *head.named_buffers())
    }
    assert read.keys() == later_read.keys()
    for name, tensor in read.items():
        assert id(tensor) in owned, f'{name} is no parameter or buffer'
        assert later_read[name] is tensor
    if path != 'configs/hman_demo.py':
        assert scheduled, 'the config has a schedule'
        assert any(t is b for t in read.values() for _, m in scheduled
                   for b in m.buffers()), 'the graph reads the schedule'
