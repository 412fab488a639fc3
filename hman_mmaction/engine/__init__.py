"""Runner-side components: hooks, model and optimizer wrappers."""
from .boundary_rate_hook import BoundaryRateFromDataHook
from .broken_video_hook import BrokenVideoCounterHook
from .hooks import GumbelTemperatureHook
from .loops import ResumableEpochBasedTrainLoop
from .model_wrappers import DeviceAgnosticDDP
from .optim_wrappers import BF16AmpOptimWrapper
from .precise_bn import PreciseBNHook
from .rng_state import RNGStateHook
from .runner import HMANRunner
from .visualization_hook import FrameVisualizationHook

__all__ = [
    'BoundaryRateFromDataHook', 'BF16AmpOptimWrapper', 'DeviceAgnosticDDP',
    'GumbelTemperatureHook', 'BrokenVideoCounterHook', 'PreciseBNHook',
    'ResumableEpochBasedTrainLoop', 'RNGStateHook', 'HMANRunner',
    'FrameVisualizationHook'
]
