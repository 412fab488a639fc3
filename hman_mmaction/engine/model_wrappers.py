"""A DDP wrapper that also works when the model lives on the CPU."""
from mmengine.model import MMDistributedDataParallel
# mmengine's Runner.wrap_model looks the type up in the *root* registry
# (without switching to the config's default scope), so register there.
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DeviceAgnosticDDP(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that drops ``device_ids`` on CPU.

    mmengine's runner always passes ``device_ids=[LOCAL_RANK]``, which
    ``torch.nn.parallel.DistributedDataParallel`` rejects for a module whose
    parameters are on the CPU (gloo training with ``torchrun``). On CUDA the
    arguments pass through unchanged. Select it in a config with
    ``model_wrapper_cfg = dict(type='DeviceAgnosticDDP')``.
    """

    def __init__(self, module, device_ids=None, output_device=None, **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu:
            device_ids, output_device = None, None
        super().__init__(
            module=module,
            device_ids=device_ids,
            output_device=output_device,
            **kwargs)
