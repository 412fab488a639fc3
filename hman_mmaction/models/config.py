"""Defaults of the head's two speed options, ``fused_sequence`` and
``gemm`` (``HMANHead`` arguments, settable from a config:
``model.cls_head.fused_sequence=False``, ``model.cls_head.gemm='torch'``).

Both paths live side by side in :meth:`hman_mmaction.models.HMANHead.run`
and give the same values and gradients (``tests/models/test_fast_paths.py``);
the head decides per forward pass which one runs
(:mod:`hman_mmaction.models.plan`).

* ``fused_sequence``: ``True`` (default) the fast path (the projection
  folded into the attention keys, the glimpse projected instead of every
  location, per-sequence weight gradients in eager mode); ``False`` the
  reference loop (the formulation as written). ``HMAN_FUSED_SEQUENCE=0``
  (or :func:`set_fused_sequence`) makes ``False`` the default of heads
  built afterwards.
* ``gemm``: ``'onednn'`` (default where torch has oneDNN's GEMM) or
  ``'torch'``: the backend of the fast path's float32 CPU products outside
  autograd (:mod:`hman_mmaction.models.gemm`). ``HMAN_ONEDNN_GEMM=0`` (or
  :func:`set_default_gemm`) makes ``'torch'`` the default.

The environment variables are read once, at import; they only set the
defaults: a value in the config wins.
"""
import os

_USE_FUSED_SEQUENCE = os.environ.get('HMAN_FUSED_SEQUENCE', '1') != '0'
_GEMM = 'onednn' if os.environ.get('HMAN_ONEDNN_GEMM', '1') != '0' \
    else 'torch'


def use_fused_sequence() -> bool:
    """The default ``fused_sequence`` of heads built from now on."""
    return _USE_FUSED_SEQUENCE


def set_fused_sequence(enable: bool = True) -> None:
    """Set the default of :func:`use_fused_sequence` for heads built from
    now on (built heads keep their ``fused_sequence``)."""
    global _USE_FUSED_SEQUENCE
    _USE_FUSED_SEQUENCE = bool(enable)


def default_gemm() -> str:
    """The default ``gemm`` of heads built from now on."""
    return _GEMM


def set_default_gemm(backend: str = 'onednn') -> None:
    """Set the default of :func:`default_gemm` (``'onednn'`` or
    ``'torch'``) for heads built from now on."""
    global _GEMM
    if backend not in ('onednn', 'torch'):
        raise ValueError(f"gemm must be 'onednn' or 'torch', got "
                         f'{backend!r}')
    _GEMM = backend
