"""Timing and peak-memory measurement for the speed benchmark.

Timing: every variant of a group runs ``warmup`` times, then the variants
are timed round-robin ``repeats`` times (so a load spike on a shared machine
hits all of them alike); each figure is the median (also min/mean/std) in
milliseconds, with a device synchronisation before and after each call.

Peak memory:

* CUDA: ``torch.cuda.max_memory_allocated`` during one call, minus the
  allocation before it (tensors the call creates, activations included);
* CPU: each variant runs in its own subprocess (see
  :mod:`hman_lab.speed.probe`); the figure is the growth of the
  process's resident-set high-water mark (Linux ``VmHWM``, elsewhere
  ``resource.getrusage`` maxrss)
  during the first call after set-up (model and inputs built), i.e. the
  extra peak RSS a call needs; no warm-up, as the mark would already hold
  the call's peak. It includes allocator slack and one-off allocations and
  is coarser than the CUDA figure.
"""
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

import torch
from mmengine.logging import print_log

from ..runs import python, run_process


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)


def time_round_robin(fns: Dict[str, Callable[[], None]], device: str,
                     repeats: int, warmup: int) -> Dict[str, dict]:
    """Median/min/mean/std milliseconds per entry of ``fns``."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            samples[name].append(1e3 * (time.perf_counter() - start))
    return {name: summarize(values) for name, values in samples.items()}


def summarize(values: List[float]) -> dict:
    return dict(
        median_ms=statistics.median(values),
        min_ms=min(values),
        mean_ms=statistics.fmean(values),
        std_ms=statistics.stdev(values) if len(values) > 1 else 0.0,
        repeats=len(values))


def _maxrss_mib() -> float:
    """Peak RSS of this process image: ``VmHWM`` of ``/proc/self/status``
    on Linux (``getrusage`` maxrss would include the parent's peak, which a
    child inherits across fork/exec), else ``getrusage`` maxrss."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return float(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return rss / 1024.0 if sys.platform != 'darwin' else rss / 2**20


def peak_memory_mib(fn: Callable[[], None], device: str) -> float:
    """Extra peak memory of one call of ``fn`` (see the module doc): on
    CUDA after a warm-up, on CPU the first call in a fresh process."""
    if device.startswith('cuda'):
        synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - before) / 2**20
    before = _maxrss_mib()
    fn()
    return max(0.0, _maxrss_mib() - before)


def probe_memory(group: str,
                 variant: str,
                 mode: str,
                 settings: dict,
                 timeout: Optional[float] = 1800) -> Optional[float]:
    """Run :mod:`hman_lab.speed.probe` in a subprocess and return its
    figure in MiB (``None`` if it failed; the error is logged)."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, 'peak.json')
        run = run_process(
            python('-m', 'hman_lab.speed.probe', group, variant, mode,
                   json.dumps(settings), out),
            capture=True,
            timeout=timeout,
            env=dict(PYTHONWARNINGS='ignore'))
        if run.ok and os.path.isfile(out):
            with open(out) as f:
                return float(json.load(f)['peak_mib'])
    print_log(
        f'memory probe {group}/{variant}/{mode} failed '
        f'({"out of time" if run.timed_out else f"exit {run.code}"}):\n'
        f'{run.tail(2000)}',
        logger='current',
        level=logging.WARNING)
    return None
