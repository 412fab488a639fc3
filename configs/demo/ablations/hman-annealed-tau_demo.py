# Demo ablation: boundary temperature annealed as max(0.1, exp(-3e-3 iter)).
_base_ = ['../../hman_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                temperature=dict(
                    _delete_=True,
                    type='AnnealedTemperature',
                    tau_0=1.0,
                    tau_min=0.1,
                    rate=3e-3)))))
