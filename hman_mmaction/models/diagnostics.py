"""What the head reports besides its losses: detached scalars logged with
every training step (:func:`training_diagnostics`) and per-sample extras
attached to the predictions (:func:`attach_extras`, ``test_cfg=dict(
return_extras=True)``), both read from :class:`~hman_mmaction.models.
outputs.HMANOutputs`.

Logged (mmengine logs every key of the loss dict and sums only those
containing ``loss``): ``att_entropy`` ``mean_{n,t} H(softmax(e_t))``,
``tau_att`` (the attention's mean temperature), ``bnd_rate_l<l>`` ``mean_
{n,t} z^l`` of each learned layer and ``tau_bnd_l<l>`` of each layer with
a temperature (layers numbered from 1).
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmaction.utils import SampleList

from .losses.attention_entropy import mean_attention_entropy
from .outputs import HMANOutputs


def learned_layers(rnn, num_layers: int) -> List[int]:
    """Layers whose boundary is learned (``HMLSTM.learned_detectors``);
    every layer for a stack that does not say."""
    learned = getattr(rnn, 'learned_detectors', None)
    return list(range(num_layers)) if learned is None else learned


def temperature_layers(rnn) -> List[int]:
    """Layers whose boundary detector has a temperature (known from the
    modules, so the diagnostics need no look at the values)."""
    return [
        layer for layer, detector in enumerate(rnn.boundaries)
        if getattr(detector, 'temperature', None) is not None
    ]


@torch.no_grad()
def training_diagnostics(outputs: HMANOutputs,
                         layers: Optional[Sequence[int]] = None,
                         tau_layers: Optional[Sequence[int]] = None
                         ) -> Dict[str, torch.Tensor]:
    """Detached scalars to log (module doc): boundary rates of ``layers``
    and temperatures of ``tau_layers`` (default all)."""
    stats = dict(att_entropy=mean_attention_entropy(outputs.attention_probs))
    if outputs.tau_attention is not None:
        stats['tau_att'] = outputs.tau_attention.float().mean()
    rates = outputs.boundaries.float().mean(dim=(0, 2))
    if layers is None:
        layers = range(len(rates))
    for layer in layers:
        stats[f'bnd_rate_l{layer + 1}'] = rates[layer]
    if outputs.tau_boundary is not None:
        taus = outputs.tau_boundary.float().nanmean(dim=(0, 2))
        if tau_layers is None:
            tau_layers = range(len(taus))
        for layer in tau_layers:
            stats[f'tau_bnd_l{layer + 1}'] = taus[layer]
    return stats


def attach_extras(samples: SampleList, outputs: HMANOutputs) -> None:
    """Attach per-sample extras; a leading view axis is kept only when a
    sample has several views (clips x crops).

    Fields: ``attention_map`` ``[T, H, W]``, ``boundaries`` ``[L, T]``,
    ``step_scores`` ``[T, num_classes]`` (softmax), when present
    ``tau_attention`` ``[T]``, ``tau_boundary`` ``[L, T]``, and
    ``boundary_offset`` (where ``BoundaryMetric`` scores exactly).
    """
    per_sample = outputs.cls_scores.shape[0] // len(samples)
    fields = dict(
        attention_map=outputs.attention,
        boundaries=outputs.boundaries,
        step_scores=outputs.step_scores.float().softmax(dim=-1),
        tau_attention=outputs.tau_attention,
        tau_boundary=outputs.tau_boundary)
    for index, sample in enumerate(samples):
        views = slice(index * per_sample, (index + 1) * per_sample)
        for name, value in fields.items():
            if value is None:
                continue
            value = value[views].detach().float()
            sample.set_field(value[0] if per_sample == 1 else value, name)
        sample.set_field(outputs.boundary_offset, 'boundary_offset')
