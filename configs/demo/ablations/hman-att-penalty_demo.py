# Attention lever: Sharma et al.'s doubly stochastic penalty, their
# lambda = 1 (AttentionCoverageLoss; docs/visualization.md).
_base_ = ['../../hman_demo.py']

model = dict(
    cls_head=dict(
        loss_attention=dict(type='AttentionCoverageLoss', loss_weight=1.0)))
