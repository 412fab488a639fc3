"""Mixed precision that also runs on the CPU."""
from contextlib import contextmanager

import torch
from mmaction.registry import OPTIM_WRAPPERS
from mmengine.optim import OptimWrapper


@OPTIM_WRAPPERS.register_module()
class BF16AmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast`` to
    bfloat16 on the model's device (CPU or CUDA).

    mmengine's ``AmpOptimWrapper`` asserts CUDA (float16 needs a loss
    scaler); bfloat16 has float32's exponent range, so no scaler is needed.
    ``tools/train.py --amp`` selects this wrapper when CUDA is unavailable.
    """

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device = next(model.parameters()).device.type
        with super().optim_context(model):
            with torch.autocast(device_type=device, dtype=torch.bfloat16):
                yield
