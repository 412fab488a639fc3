"""Where a head's training step spends its time: ``torch.profiler`` self
time of one call, summed into categories read from the shapes (what
``tools/benchmark.py --profile`` prints).

Categories, for a head on ``x`` ``[V*T, C, H, W]`` (``N = V*T`` frames, ``K
= H*W`` locations):

* ``map GEMMs``: matrix products with an ``N*K`` dimension (the content
  score's key projection, forward, weight and input gradient);
* ``per-step thin GEMMs``: matrix products of ``V`` rows, called at least
  ``T`` times (recurrent cells, glimpse projection, query projections;
  memory-bound: each reads its whole weight per step);
* ``per-step frame products``: batched products called at least ``T``
  times (glimpse ``a_t alpha``, bilinear scores, their gradients);
* ``once-per-sequence GEMMs``: the other matrix products (deferred weight
  gradients, folded projection, initial state, output module);
* ``whole-map memory passes``: other ops on a tensor of at least half the
  map (copies, sums, adds);
* ``elementwise and small ops``: every other ``aten`` op;
* ``autograd engine, Functions, Python``: the profiled total minus the
  ``aten`` and oneDNN ops (what a hand-written whole-sequence backward
  could save at most).
"""
import math
from typing import Callable, Dict

GEMMS = ('aten::mm', 'aten::addmm', 'aten::bmm', 'aten::baddbmm',
         'mkldnn::_linear_pointwise')
MATRIX = ('aten::mm', 'aten::addmm', 'mkldnn::_linear_pointwise')
CATEGORIES = ('map GEMMs', 'per-step thin GEMMs', 'per-step frame products',
              'once-per-sequence GEMMs', 'whole-map memory passes',
              'elementwise and small ops',
              'autograd engine, Functions, Python')


def categorise(name: str, shapes, count: int, views: int, steps: int,
               map_numel: int, map_rows: int) -> str:
    """The category of one ``aten`` op (see the module doc)."""
    numel = [math.prod(s) for s in shapes if s]
    if name in GEMMS:
        if any(map_rows in s for s in shapes):
            return 'map GEMMs'
        if count >= steps and name in MATRIX and any(
                len(s) == 2 and s[0] == views for s in shapes):
            return 'per-step thin GEMMs'
        if count >= steps and name in ('aten::bmm', 'aten::baddbmm'):
            return 'per-step frame products'
        return 'once-per-sequence GEMMs'
    if numel and max(numel) >= map_numel // 2:
        return 'whole-map memory passes'
    return 'elementwise and small ops'


def profile_step(step: Callable, x_shape, steps: int) -> Dict[str, float]:
    """Milliseconds per category of one call of ``step`` (warmed up by the
    caller) on features of ``x_shape`` ``[V*T, C, H, W]``, and ``total``."""
    from torch.profiler import ProfilerActivity, profile
    frames, channels, height, width = x_shape
    views, locations = frames // steps, height * width
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as p:
        step()
    averages = p.key_averages(group_by_input_shape=True)
    times = dict.fromkeys(CATEGORIES, 0.0)
    total = sum(e.self_cpu_time_total for e in averages) / 1000
    for event in averages:
        if not event.key.startswith(('aten::', 'mkldnn::')):
            continue
        category = categorise(event.key, event.input_shapes, event.count,
                              views, steps, frames * channels * locations,
                              frames * locations)
        times[category] += event.self_cpu_time_total / 1000
    times['autograd engine, Functions, Python'] = total - sum(
        v
        for k, v in times.items() if k != 'autograd engine, Functions, Python')
    times['total'] = total
    return times
