"""The head's training step as a CUDA graph: ``HMANHead(cuda_graphs=...)``
(issue 33).

A training step of the head issues thousands of tiny kernels (about 80
forward and 120 backward per time step); on a GPU it is bound by the host
that launches them. With ``cuda_graphs='auto'`` (the default) or ``True``
the head's tensor work (:meth:`HMANHead._tensors`: the recurrence, the
classifier, the predictor, everything :class:`HMANOutputs` holds) is
captured once per :class:`ShapeKey` (features' shape, dtype and device,
whether they need a gradient, autocast dtype, the pass, the trainable
parameters) in one forward and one backward CUDA graph, and replayed: one
autograd node (:class:`_Replay`) whose forward and backward each launch one
graph. The losses, diagnostics and calibrations stay eager around it.
``'compile'`` runs the same function through ``torch.compile(mode=
'reduce-overhead')`` instead (its compile time measured and logged);
``False`` always runs eagerly.

Everywhere else the head runs eagerly and says why once per process
(mmengine's ``print_log``, :func:`eager_reason`): features not on CUDA, eval
mode or no grad (graphs serve training steps), inside ``torch.compile`` or
an outer capture, a diagnostic boundary detector (it decides from the data
samples or a running threshold before the loop), a forward hook on one of
its modules, a capture that failed (an op that cannot be captured), more
than :data:`MAX_KEYS` shapes, or a second
forward of one shape before the first one's backward (the graph's memory
holds one step).

What keeps it right:

* noise: dropout and the Gumbel samples draw from the device's default
  generator, which a graph advances at every replay by what the captured
  kernels draw, at the offsets the eager step would use: a replay draws the
  numbers the eager step would draw from the same state. The warm-up and
  the capture do not consume the generator (its state is restored), nor
  change a buffer (restored), so ``ExactResumeHook``'s resume stays exact:
  a resumed run captures again and draws what the uninterrupted run drew;
* a batch of another size (the last, smaller batch of an epoch) gets its own
  key and graph, never padding;
* parameters updated in place (the optimizer, ``load_state_dict``, the
  temperature hooks' ``fill_``) are what the graph reads; a parameter or
  buffer that moved (``.to()``, ``.data =``) drops the graphs, which are
  captured again;
* autocast: captured with the autocast cache off (a cached cast would be
  replayed stale after the optimizer step);
* the gradients handed back are copies, not the graph's memory, so
  gradient accumulation over several steps adds up the right values.

:class:`HeadGraphs` is a plain attribute of the head: no entry in its
``state_dict`` (checkpoints are unchanged), and a deep copy or pickle of the
head starts without graphs.
"""
import contextlib
import logging
import time
import weakref
from typing import Dict, NamedTuple, Optional, Tuple

import torch
from mmengine.logging import print_log
from torch.autograd.function import once_differentiable

from .plan import call_state

OPTIONS = ('auto', True, False, 'compile')
MAX_KEYS = 4  # shapes captured per head; more run eagerly
WARMUP = 2  # eager steps on a side stream before a capture
#: the tensor fields of HMANOutputs that the captured function returns
FIELDS = ('cls_scores', 'step_scores', 'attention', 'attention_probs',
          'boundaries', 'boundary_logits', 'hidden', 'glimpses', 'frame_means',
          'tau_attention', 'tau_boundary', 'prediction_error', 'aux_scores')
DISABLED = 'cuda_graphs=False'
_LOGGED = set()  # reasons already logged in this process


class ShapeKey(NamedTuple):
    """What a captured graph is valid for."""
    shape: Tuple[int, ...]  # the features [V*T, C, H, W]: the batch
    dtype: torch.dtype
    device: str
    input_grad: bool  # the features need a gradient
    autocast: Optional[torch.dtype]  # None: autocast off
    grad: bool  # grad mode
    for_loss: bool  # the training step's pass (HMANHead.run)
    trainable: Tuple[bool, ...]  # requires_grad of every parameter


def shape_key(head, x: torch.Tensor, for_loss: bool) -> ShapeKey:
    state = call_state(x.device.type)
    return ShapeKey(
        tuple(x.shape), x.dtype, str(x.device), x.requires_grad,
        state.autocast, state.grad, bool(for_loss),
        tuple(p.requires_grad for p in head.parameters()))


def describe(key: ShapeKey, num_segments: int) -> str:
    """The key in words, for the log."""
    views = key.shape[0] // max(num_segments, 1)
    autocast = 'off' if key.autocast is None else str(key.autocast)
    return (f'{views} views x {num_segments} frames of {key.shape[1:]} '
            f'{key.dtype}, autocast {autocast}')


def eager_reason(head, x: torch.Tensor, device_type: str = 'cuda'):
    """None when this pass of ``head`` on ``x`` may replay a graph, else
    why it runs eagerly (module doc). ``device_type``: where graphs are
    made (``'cpu'`` only for the tests' stand-in recorder)."""
    if head.cuda_graphs is False:
        return DISABLED
    if x.device.type != device_type:
        return f'the features are on {x.device.type}, not CUDA'
    if not head.training:
        return 'eval mode (graphs serve training steps)'
    if not call_state(x.device.type).grad:
        return 'grad mode is off (graphs serve training steps)'
    if device_type == 'cuda' and torch.cuda.is_current_stream_capturing():
        return 'an outer CUDA graph capture records the step'
    diagnostic = [
        type(d).__name__ for d in getattr(head.rnn, 'boundaries', ())
        if hasattr(d, 'schedule') or hasattr(d, 'schedule_scores')
    ]
    if diagnostic:
        return (f'the diagnostic boundary detector {diagnostic[0]} decides '
                'from the data samples or a running threshold before the '
                'loop')
    if not (x.requires_grad or any(p.requires_grad
                                   for p in head.parameters())):
        return 'nothing in the step needs a gradient'
    hooked = [  # the head's own hooks run around the replay
        name for name, m in head.named_modules()
        if name and (m._forward_hooks or m._forward_pre_hooks)
    ]
    if hooked:
        return (f'a forward hook on {hooked[0]} (a replay would not '
                'call it)')
    return None


def log_once(reason: str, level: int = logging.INFO) -> None:
    """One log line per reason per process."""
    if reason in _LOGGED:
        return
    _LOGGED.add(reason)
    print_log(
        f'HMANHead runs this pass eagerly, not as a CUDA graph: {reason} '
        '(cls_head.cuda_graphs, docs/performance.md)',
        logger='current',
        level=level)


def flatten(fields: Dict) -> Tuple[Tuple[str, ...], Tuple[torch.Tensor]]:
    """``(names, tensors)`` of the fields that are not None."""
    names = tuple(name for name in FIELDS if fields.get(name) is not None)
    return names, tuple(fields[name] for name in names)


def unflatten(names: Tuple[str, ...], tensors) -> Dict:
    """Inverse of :func:`flatten`: every field of :data:`FIELDS`, None
    where not given."""
    fields = dict.fromkeys(FIELDS)
    fields.update(zip(names, tensors))
    return fields


def _pointers(head) -> Tuple[int, ...]:
    """Where the graph reads the parameters and buffers (the losses' are
    read outside it: a rate loss may replace its buffer)."""
    named = (*head.named_parameters(), *head.named_buffers())
    return tuple(t.data_ptr() for name, t in named
                 if not name.startswith('losses.'))


def _clear_cublas_workspaces() -> None:
    """A capture must not record pointers into a cuBLAS workspace that the
    caching allocator hands out again (issue 33, point 1)."""
    clear = getattr(torch._C, '_cuda_clearCublasWorkspaces', None)
    if clear is not None:
        clear()


class CudaRecorder:
    """Makes graphs on CUDA: warm-up on a side stream, then
    ``torch.cuda.graph`` captures into one private memory pool per key
    (``capture_error_mode='thread_local'``: the data loader's pinning
    thread may call CUDA meanwhile)."""

    device_type = 'cuda'

    def pool(self):
        return torch.cuda.graph_pool_handle()

    def side_stream(self):
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        return torch.cuda.stream(stream)

    def synchronize(self) -> None:
        torch.cuda.synchronize()

    def record(self, fn, pool):
        """``(replay, result)``: ``fn()`` captured; ``result`` its static
        outputs, rewritten by every ``replay()``."""
        _clear_cublas_workspaces()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(
                graph, pool=pool, capture_error_mode='thread_local'):
            result = fn()
        return graph.replay, result


def _rng_state(device: torch.device):
    state = [torch.get_rng_state()]
    if device.type == 'cuda':
        state.append(torch.cuda.get_rng_state(device))
    return state


def _set_rng_state(device: torch.device, state) -> None:
    torch.set_rng_state(state[0])
    if device.type == 'cuda':
        torch.cuda.set_rng_state(state[1], device)


class GraphedStep:
    """The forward and backward graphs of one key, and everything they
    point at: the static input, the static outputs and output gradients,
    the parameters' gradients (the replay owns them: ``empty_cache()``
    cannot unmap them while it lives)."""

    def __init__(self, head, x: torch.Tensor, key: ShapeKey, recorder):
        self.key = key
        self.static_x = x.detach().clone().requires_grad_(x.requires_grad)
        self.params = tuple(p for p in head.parameters() if p.requires_grad)
        self.inputs = ((self.static_x, ) if x.requires_grad else
                       ()) + self.params
        self.pointers = _pointers(head)
        self.pending = None  # weakref to the last forward's autograd node
        self.grad_outputs, self.grad_inputs = (), ()
        self.bwd_replay = None
        holder = {}

        def forward():
            names, outputs = flatten(
                head._tensors(self.static_x, None, key.for_loss))
            holder['outputs'], self.names = outputs, names
            return outputs

        def backward():
            pairs = [(o, g)
                     for o, g in zip(holder['outputs'], self.grad_outputs)
                     if g is not None]
            return torch.autograd.grad([o for o, _ in pairs],
                                       self.inputs, [g for _, g in pairs],
                                       allow_unused=True)

        saved_rng = _rng_state(x.device)
        saved = [(b, b.detach().clone()) for b in head.buffers()]
        autocast = (
            torch.autocast(
                x.device.type, dtype=key.autocast, cache_enabled=False)
            if key.autocast is not None else contextlib.nullcontext())
        try:
            with autocast, torch.enable_grad():
                with recorder.side_stream():
                    for _ in range(WARMUP):
                        outputs = forward()
                        self.grad_outputs = tuple(
                            torch.zeros_like(o) if o.requires_grad else None
                            for o in outputs)
                        if any(g is not None for g in self.grad_outputs):
                            backward()
                recorder.synchronize()
                pool = recorder.pool()
                self.fwd_replay, self.outputs = recorder.record(forward, pool)
                self.grad_outputs = tuple(
                    torch.empty_like(o) if o.requires_grad else None
                    for o in self.outputs)
                if any(g is not None for g in self.grad_outputs):
                    self.bwd_replay, self.grad_inputs = recorder.record(
                        backward, pool)
        finally:  # the warm-up and the capture leave no trace
            with torch.no_grad():
                for buffer, value in saved:
                    buffer.copy_(value)
            _set_rng_state(x.device, saved_rng)

    def moved(self, head) -> bool:
        """A parameter or buffer is no longer where the graph reads it."""
        return _pointers(head) != self.pointers

    def waiting(self) -> bool:
        """The last replay's backward has not run, and still can."""
        return self.pending is not None and self.pending() is not None

    def __call__(self, x: torch.Tensor) -> Dict:
        return unflatten(self.names, _Replay.apply(self, x, *self.params))


class _Replay(torch.autograd.Function):
    """One replay of a :class:`GraphedStep`: the forward graph on ``x``,
    and in the backward the backward graph; gradients for ``x`` and the
    trainable parameters, copied out of the graph's memory."""

    @staticmethod
    def forward(ctx, step: GraphedStep, x, *params):
        if step.static_x.data_ptr() != x.data_ptr():
            step.static_x.copy_(x)
        step.fwd_replay()
        ctx.step = step
        step.pending = weakref.ref(ctx)
        outputs = tuple(o.detach() for o in step.outputs)
        ctx.mark_non_differentiable(
            *(o for o, g in zip(outputs, step.grad_outputs) if g is None))
        return outputs

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads):
        step = ctx.step
        step.pending = None
        for static, grad in zip(step.grad_outputs, grads):
            if static is not None:
                static.copy_(grad)
        step.bwd_replay()
        grads_in = [None if g is None else g.clone() for g in step.grad_inputs]
        grad_x = grads_in.pop(0) if step.static_x.requires_grad else None
        return (None, grad_x, *grads_in)


class HeadGraphs:
    """The head's graphs by key, and how long each capture (or compile)
    took (``capture_seconds``, ``compile_seconds``: seconds by key).
    ``recorder``: :class:`CudaRecorder` (the tests pass a CPU stand-in)."""

    def __init__(self, recorder=None):
        self.recorder = CudaRecorder() if recorder is None else recorder
        self.steps = {}  # key -> GraphedStep, or why its capture failed
        self.compiled = {}  # key -> torch.compile'd function
        self.capture_seconds, self.compile_seconds = {}, {}

    def __deepcopy__(self, memo):
        return HeadGraphs(self.recorder)

    def __getstate__(self):
        return dict(recorder=self.recorder)

    def __setstate__(self, state):
        self.__init__(state['recorder'])

    def tensors(self, head, x: torch.Tensor, data_samples,
                for_loss: bool) -> Dict:
        """The fields of :data:`FIELDS` for ``head.run``: replayed from a
        graph where :func:`eager_reason` allows, else eagerly."""
        if call_state(x.device.type).compiling:  # a graph of its own
            return head._tensors(x, data_samples, for_loss)
        reason = eager_reason(head, x, self.recorder.device_type)
        if reason is None:
            key = shape_key(head, x, for_loss)
            if head.cuda_graphs == 'compile':
                return self._compiled(head, x, key)
            fields, reason = self._replayed(head, x, key)
            if fields is not None:
                return fields
        if reason != DISABLED:  # asked for (True) or failed: a warning
            expected = head.cuda_graphs == 'auto' and not reason.startswith(
                'capturing')
            log_once(reason, logging.INFO if expected else logging.WARNING)
        return head._tensors(x, data_samples, for_loss)

    def _replayed(self, head, x, key):
        """``(fields, None)`` from the key's graph (captured now if new),
        or ``(None, why not)``."""
        step = self.steps.get(key)
        if isinstance(step, GraphedStep) and step.moved(head):
            log_once('a parameter or buffer moved since the capture; the '
                     'graphs are captured again')
            self.steps.clear()
            step = None
        if key not in self.steps:
            if len(self.steps) >= MAX_KEYS:
                return None, (f'more than {MAX_KEYS} shapes of features '
                              'in training')
            self.steps[key] = self._capture(head, x, key)
        step = self.steps[key]
        if isinstance(step, str):
            return None, step
        if step.waiting():
            return None, ('a second training forward of one shape before '
                          "the first one's backward (a graph holds one step)")
        return step(x), None

    def _capture(self, head, x, key):
        start = time.perf_counter()
        try:
            step = GraphedStep(head, x, key, self.recorder)
        except Exception as error:  # an op that cannot be captured
            last = (str(error).strip().splitlines() or [''])[-1][:200]
            return (f"capturing the step failed ({type(error).__name__}: "
                    f"{last})")
        self.capture_seconds[key] = time.perf_counter() - start
        print_log(
            f'HMANHead: captured the training step '
            f'({describe(key, head.num_segments)}) as CUDA graphs in '
            f'{self.capture_seconds[key]:.1f} s',
            logger='current',
            level=logging.INFO)
        return step

    def _compiled(self, head, x, key) -> Dict:
        """``cuda_graphs='compile'``: the same function through
        ``torch.compile(mode='reduce-overhead')``, one per key; the first
        call (the compile) is timed and logged."""
        compiled = self.compiled.get(key)
        torch.compiler.cudagraph_mark_step_begin()
        if compiled is not None:
            return compiled(x)

        def tensors(x):
            return head._tensors(x, None, key.for_loss)

        compiled = torch.compile(tensors, mode='reduce-overhead')
        start = time.perf_counter()
        fields = compiled(x)
        torch.cuda.synchronize(x.device)
        self.compile_seconds[key] = time.perf_counter() - start
        self.compiled[key] = compiled
        print_log(
            "HMANHead: torch.compile(mode='reduce-overhead') of the "
            f'training step ({describe(key, head.num_segments)}): '
            f'{self.compile_seconds[key]:.1f} s (first call, compile '
            'included)',
            logger='current',
            level=logging.WARNING)
        return fields
