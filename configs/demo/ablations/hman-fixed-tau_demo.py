# Demo ablation: fixed boundary temperature tau = 1.
_base_ = ['../../hman_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                temperature=dict(
                    _delete_=True, type='FixedTemperature', tau=1.0)))))
