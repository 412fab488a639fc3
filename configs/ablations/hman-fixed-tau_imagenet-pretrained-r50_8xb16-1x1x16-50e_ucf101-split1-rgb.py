# Ablation: fixed Gumbel temperature tau = 1 instead of the adaptive one.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py'
]

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                temperature=dict(
                    _delete_=True, type='FixedTemperature', tau=1.0)))))
