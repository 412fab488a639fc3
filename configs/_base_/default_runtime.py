# Runtime shared by every HM-AN config: mmaction2's own runtime plus the
# plugin (compat fixes + registered HM-AN components).
_base_ = ['mmaction::_base_/default_runtime.py']

custom_imports = dict(imports=['hman_mmaction'], allow_failed_imports=False)

# The plugin's guarantees, also for a config of your own (README):
# ExactResumeHook: --resume after a kill gives the uninterrupted run's losses
# (RNG states, position in the epoch), falls back past truncated checkpoints;
# RunChecksHook: labels, test views, output paths and the checkpoint checked
# before the run (hman_mmaction/engine/). Then: annealed temperatures /
# hard-sigmoid slopes stepped and logged; loss_boundary target_rate='auto'
# from the training data; skipped broken clips counted; cached-feature
# checkpoints record their feature store.
plugin_hooks = [dict(type='ExactResumeHook'), dict(type='RunChecksHook')]
custom_hooks = plugin_hooks + [
    dict(type='GumbelTemperatureHook'),
    dict(type='BoundaryRateFromDataHook'),
    dict(type='BrokenVideoCounterHook'),
    dict(type='FeatureProvenanceHook')
]

# DDP that also runs on CPU (gloo); on CUDA it is mmengine's own.
model_wrapper_cfg = dict(type='DeviceAgnosticDDP')

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    checkpoint=dict(
        type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    # mmaction2's VisualizationHook for NCHW inputs, on with test.py --show-dir
    visualization=dict(type='FrameVisualizationHook', enable=False))

# TensorBoard: uncomment (after `pip install tensorboard`) to also log the
# scalars (loss, top1_acc, tau_*, bnd_rate_l*, att_entropy) there.
# visualizer = dict(
#     type='ActionVisualizer',
#     vis_backends=[dict(type='LocalVisBackend'),
#                   dict(type='TensorboardVisBackend')])
