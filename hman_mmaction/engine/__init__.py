"""Runner-side components: hooks, model and optimizer wrappers."""
from .boundary_rate_hook import BoundaryRateFromDataHook
from .broken_video_hook import BrokenVideoCounterHook
from .checkpoint_config import FeatureProvenanceHook
from .exact_resume_hook import ExactResumeHook
from .hooks import GumbelTemperatureHook
from .loops import ResumableEpochBasedTrainLoop
from .model_wrappers import DeviceAgnosticDDP
from .optim_wrappers import BF16AmpOptimWrapper
from .precise_bn import PreciseBNHook
from .rng_state import RNGStateHook
from .run_checks_hook import RunChecksHook
from .visualization_hook import FrameVisualizationHook

__all__ = [
    'BoundaryRateFromDataHook', 'BF16AmpOptimWrapper', 'DeviceAgnosticDDP',
    'GumbelTemperatureHook', 'BrokenVideoCounterHook', 'PreciseBNHook',
    'ResumableEpochBasedTrainLoop', 'RNGStateHook', 'ExactResumeHook',
    'RunChecksHook', 'FeatureProvenanceHook', 'FrameVisualizationHook'
]
