"""How a benchmark call runs: eagerly, compiled, or replayed from a CUDA
graph.

A timed variant of :mod:`hman_lab.speed.cases` is a base variant
(``hman_soft``, ``hman_soft_reference``, ``lstm`` ...) and an execution:

* ``eager``: the call as written (the variant's name is the base's);
* ``compiled`` (``<base>+compiled``): the loss (training) or the forward
  (inference) through ``torch.compile`` with its default backend
  (Inductor), the backward through the compiled graph's own backward;
* ``cudagraph`` (``<base>+cudagraph``, CUDA only): the whole call, forward,
  loss and backward, captured once in a ``torch.cuda.CUDAGraph`` after a
  warm-up on a side stream, then replayed (no Python, no kernel launches
  per call). The replay is a :class:`CapturedGraph`: it holds the
  captured call, and with it the model, the static inputs and the outputs
  whose memory the graph's kernels read and write, for as long as the
  replay lives (issue 33: a replay that held only ``graph.replay`` let
  them go, and the next capture's ``empty_cache()`` could unmap memory the
  first graph still pointed at: an illegal memory access at replay).

:func:`prepare` makes the first call of a compiled or captured variant (the
compilation, or the warm-up and the capture) and returns how long it took;
a variant that cannot be prepared raises there, and the benchmark reports
it instead of timing it.
"""
import time
from typing import Callable, Optional, Tuple

import torch

EXECUTIONS = ('eager', 'cudagraph', 'compiled')
EXECUTION_LABELS = dict(
    eager='', compiled=', compiled (Inductor)', cudagraph=', CUDA graph')


def variant_name(base: str, execution: str) -> str:
    """``base`` for eager execution, else ``'<base>+<execution>'``."""
    if execution not in EXECUTIONS:
        raise KeyError(f'execution must be one of {EXECUTIONS}, got '
                       f'{execution!r}')
    return base if execution == 'eager' else f'{base}+{execution}'


def split_variant(name: str) -> Tuple[str, str]:
    """``(base, execution)`` of a variant name."""
    base, _, execution = name.partition('+')
    return base, execution or 'eager'


def allow_recompiles(limit: int = 64) -> None:
    """Let dynamo keep one compiled graph per benchmark variant (they share
    the step's code object; the default limit is 8)."""
    import torch._dynamo.config as dynamo
    for name in ('recompile_limit', 'cache_size_limit'):
        if hasattr(dynamo, name):
            setattr(dynamo, name, max(getattr(dynamo, name), limit))


def compile_fn(fn: Callable) -> Callable:
    """``torch.compile(fn)`` with the default backend (Inductor)."""
    allow_recompiles()
    return torch.compile(fn)


class CapturedGraph:
    """A captured CUDA graph and its owners: calling it replays the graph.

    ``graph`` (``torch.cuda.CUDAGraph``) points at the memory of what the
    captured call used: ``owner`` (the call; its closure holds the model
    and the static inputs), ``keep`` (more owners, e.g. the model and the
    inputs, named so the lifetime does not rest on a closure) and
    ``outputs`` (what the captured call returned, the static outputs that
    every replay rewrites). This object holds all of them, so none of that
    memory is freed, let alone unmapped by ``torch.cuda.empty_cache()``,
    while the replay can still be called.
    """

    def __init__(self, graph, owner: Callable, outputs=None, keep=()):
        self.graph = graph
        self.owner = owner
        self.outputs = outputs
        self.keep = tuple(keep)

    def __call__(self):
        self.graph.replay()
        return self.outputs


def clear_cublas_workspaces() -> None:
    """Free cuBLAS's per-stream workspaces (a capture must not record
    pointers into a workspace that the caching allocator hands out again);
    a no-op where this torch has no such call."""
    clear = getattr(torch._C, '_cuda_clearCublasWorkspaces', None)
    if clear is not None and torch.cuda.is_available():
        clear()


def _capture_on_cuda(call: Callable, warmup: int):
    """``(graph, outputs)``: ``call`` run ``warmup`` times on a side
    stream, then captured once (the cuBLAS workspaces cleared first)."""
    if not torch.cuda.is_available():
        raise RuntimeError('CUDA graphs need a CUDA device; run the '
                           'benchmark with --device cuda')
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            call()
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    clear_cublas_workspaces()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        outputs = call()
    return graph, outputs


def capture_cuda_graph(call: Callable,
                       warmup: int = 3,
                       keep=(),
                       capture: Optional[Callable] = None) -> CapturedGraph:
    """Capture ``call`` (a whole step: it must set the gradients it
    produces to ``None`` first, as ``zero_grad(set_to_none=True)`` does)
    after ``warmup`` calls on a side stream; returns the replay, a
    :class:`CapturedGraph` that owns ``call``, ``keep`` and the outputs.
    ``capture(call, warmup) -> (graph, outputs)`` replaces the CUDA
    capture (tests)."""
    graph, outputs = (capture or _capture_on_cuda)(call, warmup)
    return CapturedGraph(graph, call, outputs, keep)


def prepare(call: Callable[[], None], device: str) -> float:
    """Seconds of the first call of ``call`` (compilation included)."""
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    call()
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)
    return time.perf_counter() - start
