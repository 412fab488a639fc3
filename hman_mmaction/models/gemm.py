"""The fast path's matrix products on the fastest GEMM torch ships.

On x86 CPUs torch runs a float32 ``mm`` / ``linear`` through MKL's sgemm,
which on AMD CPUs takes a slower code path. torch also ships oneDNN's
GEMM (``torch.ops.mkldnn._linear_pointwise``, what Inductor's CPU backend
calls), which takes strided (transposed) operands as they are. On the
development machine (AMD EPYC, AVX-512; ``tools/benchmark.py`` probes both)
oneDNN ran a 1024^3 product 2.2x faster, the content score's key GEMMs
2-2.3x and the recurrent cells' thin per-step products (8 rows) 1.7-2.7x.

:func:`mm_nt` is ``a @ b^T (+ bias)`` for 2-D tensors on the backend it is
given: ``'onednn'`` or ``'torch'`` (``F.linear``). It decides nothing: the
head's plan (:mod:`hman_mmaction.models.plan`) names the backend, oneDNN
only for float32 CPU products that autograd does not record (inside the
fast path's Functions, or without grad) and only when the head's ``gemm``
option is ``'onednn'`` (its default, unless ``HMAN_ONEDNN_GEMM=0``:
:func:`hman_mmaction.models.config.default_gemm`).
"""
from typing import Optional

import torch
import torch.nn.functional as F

_AVAILABLE = (
    torch.backends.mkldnn.is_available()
    and hasattr(torch.ops.mkldnn, '_linear_pointwise'))


def onednn_gemm_available() -> bool:
    """Whether torch has oneDNN's GEMM on this machine."""
    return _AVAILABLE


def mm_nt(a: torch.Tensor,
          b: torch.Tensor,
          bias: Optional[torch.Tensor] = None,
          backend: str = 'torch') -> torch.Tensor:
    """``a @ b^T + bias``: ``a`` ``[M, K]``, ``b`` ``[N, K]`` (either may be
    a transposed view), ``bias`` ``[N]`` or None -> ``[M, N]``, on
    ``backend`` (``'onednn'``: float32 CPU tensors, not recorded by
    autograd)."""
    if backend == 'onednn':
        return torch.ops.mkldnn._linear_pointwise(a, b, bias, 'none', [], '')
    return F.linear(a, b, bias)


def onednn_probe(n: int):
    """A callable computing one ``n^3`` product with oneDNN (for the
    benchmark's GEMM rate), or None where oneDNN is not available."""
    if not onednn_gemm_available():
        return None
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(n, n, generator=gen)
    b = torch.randn(n, n, generator=gen)

    def gemm():
        torch.ops.mkldnn._linear_pointwise(a, b, None, 'none', [], '')

    return gemm
