"""Let mmengine's ``pytorch`` launcher start on machines without CUDA.

``mmengine.dist.utils._init_dist_pytorch`` calls ``torch.cuda.set_device``
before ``init_process_group``, so ``torchrun`` on a CPU-only machine dies
before the first iteration. When CUDA is unavailable we initialise the
process group ourselves with ``gloo`` (the only CPU backend) from the
variables torchrun sets; with CUDA the original function runs unchanged.
The model side of the same problem (DDP's ``device_ids``) is handled by the
registered wrapper :class:`hman_mmaction.engine.DeviceAgnosticDDP`.
"""
import logging
import os
from functools import wraps

import torch
import torch.distributed as torch_dist
from mmengine.logging import print_log

CPU_BACKEND = 'gloo'


def init_cpu_process_group(backend: str, **kwargs) -> None:
    """``init_process_group`` with gloo from torchrun's environment."""
    if backend != CPU_BACKEND:
        print_log(
            f'CUDA is not available: using the {CPU_BACKEND!r} backend '
            f'instead of {backend!r} for distributed training on CPU.',
            logger='current',
            level=logging.WARNING)
    torch_dist.init_process_group(
        backend=CPU_BACKEND,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)


def _cpu_aware(original):

    @wraps(original)
    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        return init_cpu_process_group(backend, **kwargs)

    init_dist_pytorch.__hman_cpu_aware__ = True
    return init_dist_pytorch


def patch_pytorch_launcher() -> bool:
    """Wrap mmengine's pytorch-launcher init; returns True if it did."""
    from mmengine.dist import utils as dist_utils
    current = dist_utils._init_dist_pytorch
    if getattr(current, '__hman_cpu_aware__', False):
        return False
    dist_utils._init_dist_pytorch = _cpu_aware(current)
    return True
