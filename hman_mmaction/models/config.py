"""The one switch between the reference recurrence and the fast path.

As timm's ``use_fused_attn``: a head reads the switch once, when it is
built, into its ``fused_sequence`` attribute (set that attribute to choose
per instance). Both paths live side by side in
:meth:`hman_mmaction.models.HMANHead.run` and give the same values and
gradients (``tests/models/test_fast_paths.py``).

* ``False``: the reference loop, the formulation as written (every location
  projected, one ``nn.Linear`` call per cell and step, plain autograd).
* ``True`` (default): the fast path (the projection folded into the
  attention keys, the glimpse projected instead of every location, one
  weight-gradient GEMM per cell for the whole sequence in eager mode).

The environment variable ``HMAN_FUSED_SEQUENCE=0`` sets the default to the
reference loop.
"""
import os

_USE_FUSED_SEQUENCE = os.environ.get('HMAN_FUSED_SEQUENCE', '1') != '0'


def use_fused_sequence() -> bool:
    """Whether heads built from now on take the fast path."""
    return _USE_FUSED_SEQUENCE


def set_fused_sequence(enable: bool = True) -> None:
    """Set the default of :func:`use_fused_sequence` for heads built from
    now on (built heads keep their ``fused_sequence``)."""
    global _USE_FUSED_SEQUENCE
    _USE_FUSED_SEQUENCE = bool(enable)
