# Recipe (b) with hard attention: as hman_scratch_demo.py (the paper's
# boundary detector), the Gumbel-hard attention mixed with soft attention
# over the first 300 iterations.
_base_ = [
    './ablations/hman-post-bnd_demo.py',
    '../_base_/ablations/hard_attention.py'
]

model = dict(
    cls_head=dict(
        attention=dict(
            _base_.hard_attention.attention,
            soft_mix=dict(type='LinearDecay', start=1.0, end_iter=300)),
        glimpse_residual=True,
        loss_aux=dict(type='CrossEntropyLoss', loss_weight=1.0)))
