"""Runner-side components: hooks, model and optimizer wrappers."""
from .hooks import GumbelTemperatureHook
from .model_wrappers import DeviceAgnosticDDP
from .optim_wrappers import BF16AmpOptimWrapper

__all__ = [
    'BF16AmpOptimWrapper', 'DeviceAgnosticDDP', 'GumbelTemperatureHook'
]
