"""The fast path's matrix products on the fastest GEMM torch ships.

On x86 CPUs torch runs a float32 ``mm`` / ``linear`` through MKL's sgemm,
which on AMD CPUs takes a slower code path. torch also ships oneDNN's
GEMM (``torch.ops.mkldnn._linear_pointwise``, what Inductor's CPU backend
calls), which takes strided (transposed) operands as they are. On the
development machine (AMD EPYC, AVX-512; ``tools/benchmark.py`` probes both)
oneDNN ran a 1024^3 product 2.2x faster, the content score's key GEMMs
2-2.3x and the recurrent cells' thin per-step products (8 rows) 1.7-2.7x.

:func:`mm_nt` is ``a @ b^T (+ bias)`` for 2-D tensors: oneDNN for float32
CPU tensors outside autograd (inside the fast path's autograd Functions, or
without grad), ``F.linear`` otherwise (CUDA, other dtypes, a recorded
graph, ``torch.compile``). ``HMAN_ONEDNN_GEMM=0`` (or
:func:`set_onednn_gemm`) keeps every product on ``F.linear``.
"""
import os
from typing import Optional

import torch
import torch.nn.functional as F

_ENABLED = os.environ.get('HMAN_ONEDNN_GEMM', '1') != '0'
_AVAILABLE = (
    torch.backends.mkldnn.is_available()
    and hasattr(torch.ops.mkldnn, '_linear_pointwise'))


def onednn_gemm_available() -> bool:
    """Whether torch has oneDNN's GEMM on this machine."""
    return _AVAILABLE


def use_onednn_gemm() -> bool:
    """Whether :func:`mm_nt` may take oneDNN (switch and availability)."""
    return _ENABLED and _AVAILABLE


def set_onednn_gemm(enable: bool = True) -> None:
    """Switch oneDNN products on or off (default from
    ``HMAN_ONEDNN_GEMM``)."""
    global _ENABLED
    _ENABLED = bool(enable)


def onednn_applies(*tensors) -> bool:
    """Whether :func:`mm_nt` takes oneDNN for these operands: the switch
    is on, all are float32 CPU tensors of at most 2 dims and autograd does
    not record (no grad mode, or none requires grad)."""
    if torch.compiler.is_compiling() or not use_onednn_gemm():
        return False
    present = [t for t in tensors if t is not None]
    if any(t.device.type != 'cpu' or t.dtype != torch.float32 or t.dim() > 2
           for t in present):
        return False
    return not (torch.is_grad_enabled() and any(t.requires_grad
                                                for t in present))


def mm_nt(a: torch.Tensor,
          b: torch.Tensor,
          bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``a @ b^T + bias``: ``a`` ``[M, K]``, ``b`` ``[N, K]`` (either may be
    a transposed view), ``bias`` ``[N]`` or None -> ``[M, N]``."""
    if onednn_applies(a, b, bias):
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
