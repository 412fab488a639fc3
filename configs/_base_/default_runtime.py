# Runtime shared by every HM-AN config: mmaction2's own runtime plus the
# plugin (compat fixes + registered HM-AN components).
_base_ = ['mmaction::_base_/default_runtime.py']

custom_imports = dict(imports=['hman_mmaction'], allow_failed_imports=False)

# Falls back past truncated checkpoints on --resume, resumes mid-epoch exactly
# with the saved RNG states (hman_mmaction/engine/runner.py).
runner_type = 'HMANRunner'

# Steps annealed temperatures / hard-sigmoid slopes and logs them.
# the second sets loss_boundary target_rate='auto' from the training data
# (a no-op for a numeric target)
custom_hooks = [
    dict(type='GumbelTemperatureHook'),
    dict(type='BoundaryRateFromDataHook')
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
