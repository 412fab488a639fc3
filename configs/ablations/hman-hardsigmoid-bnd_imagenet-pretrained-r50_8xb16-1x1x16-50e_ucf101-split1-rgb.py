# Ablation: Chung et al.'s straight-through hard-sigmoid boundary (slope
# annealed 1 -> 5 by GumbelTemperatureHook) instead of the Gumbel boundary.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py'
]

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                _delete_=True,
                type='HardSigmoidBoundary',
                slope=1.0,
                slope_max=5.0,
                slope_rate=1e-4))))
