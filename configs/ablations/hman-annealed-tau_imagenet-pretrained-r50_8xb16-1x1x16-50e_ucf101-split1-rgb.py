# Ablation: annealed Gumbel temperature tau = max(0.1, exp(-1e-4 * iter))
# (stepped and logged by GumbelTemperatureHook) instead of the adaptive one.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py'
]

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                temperature=dict(
                    _delete_=True,
                    type='AnnealedTemperature',
                    tau_0=1.0,
                    tau_min=0.1,
                    rate=1e-4)))))
