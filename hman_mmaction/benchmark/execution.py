"""How a benchmark call runs: eagerly, compiled, or replayed from a CUDA
graph.

A timed variant of :mod:`hman_mmaction.benchmark.speed` is a base variant
(``hman_soft``, ``hman_soft_reference``, ``lstm`` ...) and an execution:

* ``eager``: the call as written (the variant's name is the base's);
* ``compiled`` (``<base>+compiled``): the loss (training) or the forward
  (inference) through ``torch.compile`` with its default backend
  (Inductor), the backward through the compiled graph's own backward;
* ``cudagraph`` (``<base>+cudagraph``, CUDA only): the whole call, forward,
  loss and backward, captured once in a ``torch.cuda.CUDAGraph`` after a
  warm-up on a side stream, then replayed (no Python, no kernel launches
  per call).

:func:`prepare` makes the first call of a compiled or captured variant (the
compilation, or the warm-up and the capture) and returns how long it took;
a variant that cannot be prepared raises there, and the benchmark reports
it instead of timing it.
"""
import time
from typing import Callable, Tuple

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


def capture_cuda_graph(call: Callable[[], None],
                       warmup: int = 3) -> Callable[[], None]:
    """Capture ``call`` (a whole step: it must set the gradients it
    produces to ``None`` first, as ``zero_grad(set_to_none=True)`` does)
    after ``warmup`` calls on a side stream; returns the replay."""
    if not torch.cuda.is_available():
        raise RuntimeError('CUDA graphs need a CUDA device; run the '
                           'benchmark with --device cuda')
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            call()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        call()
    return graph.replay


def prepare(call: Callable[[], None], device: str) -> float:
    """Seconds of the first call of ``call`` (compilation included)."""
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    call()
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)
    return time.perf_counter() - start
