# Ablation: Gumbel hard attention (one location per step, adaptive tau)
# instead of soft attention.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py'
]

model = dict(
    cls_head=dict(
        attention=dict(
            type='GumbelHardAttention',
            temperature=dict(type='AdaptiveTemperature'),
            eval_mode='argmax')))
