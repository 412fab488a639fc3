# HM-AN on an ImageNet-pretrained ResNet-50 (mmaction2's TSN-R50 recognizer
# with the TSN head replaced by the HM-AN head).
_base_ = ['mmaction::_base_/models/tsn_r50.py']

model = dict(
    # recipe (a) of docs/training_recipes.md: fine-tune the pretrained
    # backbone with its BatchNorm statistics frozen (the gated recurrent
    # head does not tolerate running statistics that lag behind the weights)
    backbone=dict(norm_eval=True),
    cls_head=dict(
        _delete_=True,
        type='HMANHead',
        num_classes=101,
        in_channels=2048,
        num_segments=16,
        feat_channels=512,  # 1x1 projection 2048 -> 512 before attention
        rnn=dict(
            type='HMLSTM',
            hidden_size=512,
            num_layers=2,
            output='gated',
            # causal boundaries (docs/boundaries.md): layer 1 decides at step
            # t, before its cell update, from [x_t ; delta_t ; h_{t-1}]
            # through an MLP; z_t = 1 acts in the same step
            timing='pre',
            readout=dict(type='BoundaryReadout', hidden_size=64),
            boundary=dict(
                type='GumbelBoundary',
                temperature=dict(type='AdaptiveTemperature', tau_max=1.0))),
        # content score (Sharma et al.); 'bilinear' trains the head ~2x
        # faster but did not show "no loss" in the accuracy benchmark
        # (docs/benchmarks.md#attention-score-content-or-bilinear)
        attention=dict(
            type='SoftAttention', score='content', hidden_channels=256),
        attention_query='all',
        init_state='mean',
        dropout_ratio=0.5,
        # delta_t: the maps' change and the next-step predictor's error
        change_features=['map_diff', 'map_change', 'pred_error'],
        loss_predict=dict(
            type='NextStepPredictionLoss', loss_weight=1.0, target='frame'),
        # unsupervised alignment: layer 1 learns to fire at the peaks of the
        # predictor's error (self-made targets), at the rate loss's rate
        loss_segment=dict(
            type='BoundarySupervisionLoss',
            targets='change_peaks',
            score='pred_error',
            rate=0.15,
            loss_weight=1.0),
        loss_boundary=dict(
            type='BoundaryRateLoss', loss_weight=2.0, target_rate=0.15),
        # Sharma et al.'s doubly stochastic penalty, their lambda = 1
        loss_attention=dict(type='AttentionCoverageLoss', loss_weight=1.0),
        temporal_pool='mean',
        average_clips='prob',
        test_cfg=dict(return_extras=False)))
