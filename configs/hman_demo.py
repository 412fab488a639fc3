# HM-AN on the embedded demo data, sized to train on a 2-core CPU in
# minutes. Same components as the UCF101 config; only the backbone
# (ResNet-18, first two stages), the sizes and the schedule differ. The two
# training recipes (docs/training_recipes.md) build on it:
#   (a) configs/demo/hman_tsn-pretrained_demo.py: the head on the frozen
#       backbone of a TSN trained on the same videos (what `make demo` runs);
#   (b) configs/demo/hman_scratch_demo.py: end to end from scratch.
_base_ = [
    './_base_/default_runtime.py', './_base_/datasets/synthetic_actions.py'
]

model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='ResNet',
        depth=18,
        pretrained=None,
        num_stages=2,
        out_indices=(1, ),
        strides=(1, 2),
        dilations=(1, 1),
        norm_eval=False),
    cls_head=dict(
        type='HMANHead',
        num_classes=_base_.num_classes,
        in_channels=128,
        num_segments=_base_.num_segments,
        rnn=dict(
            type='HMLSTM',
            hidden_size=64,
            num_layers=2,
            # causal boundaries (docs/boundaries.md): layer 1 decides at step
            # t, before its cell update, from [x_t ; delta_t ; h_{t-1}]
            # through an MLP, and z_t = 1 acts in the same step (layer 1
            # starts a new segment with x_t, layer 2 takes the finished one)
            timing='pre',
            readout=dict(type='BoundaryReadout', hidden_size=64),
            boundary=dict(
                type='GumbelBoundary',
                temperature=dict(type='AdaptiveTemperature'))),
        attention=dict(type='SoftAttention', hidden_channels=64),
        dropout_ratio=0.2,
        # delta_t: the maps' change (mean_k |a_t,k - a_t-1,k| per channel,
        # its squared norm) and the next-step predictor's error
        change_features=['map_diff', 'map_change', 'pred_error'],
        # layer 1 predicts the next step's mean frame feature
        loss_predict=dict(
            type='NextStepPredictionLoss', loss_weight=1.0, target='frame'),
        # unsupervised alignment: layer 1 learns to fire at the peaks of the
        # predictor's error (self-made targets, no label read) ...
        loss_segment=dict(
            type='BoundarySupervisionLoss',
            targets='change_peaks',
            score='pred_error',
            rate=0.15,
            loss_weight=1.0),
        # ... at the rate the rate loss keeps it alive at (train = test)
        loss_boundary=dict(
            type='BoundaryRateLoss', loss_weight=2.0, target_rate=0.15),
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        format_shape='NCHW'))

max_epochs = 12
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=5, norm_type=2))
param_scheduler = [
    # one epoch of linear warm-up, then cosine decay
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=1e-5,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]

default_hooks = dict(logger=dict(interval=10))
# BatchNorm statistics recomputed with the final weights of every epoch
# before validation and the checkpoint (hman_mmaction/engine/precise_bn.py):
# the running averages lag behind a backbone that AdamW still moves, and the
# gated recurrent head does not tolerate the mismatch.
custom_hooks = _base_.custom_hooks + [
    dict(type='PreciseBNHook', num_batches=20)
]
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
auto_scale_lr = dict(enable=False, base_batch_size=16)
