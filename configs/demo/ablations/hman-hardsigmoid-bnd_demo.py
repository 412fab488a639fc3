# Demo ablation: hard-sigmoid boundary (slope 1 -> 5) instead of Gumbel.
_base_ = ['../../hman_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                _delete_=True,
                type='HardSigmoidBoundary',
                slope=1.0,
                slope_max=5.0,
                slope_rate=5e-3))))
