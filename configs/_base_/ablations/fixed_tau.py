# The boundaries' Gumbel-softmax at a fixed temperature tau = 1 instead of
# the adaptive one (head delta: model = dict(cls_head=_base_.fixed_tau)).
fixed_tau = dict(
    rnn=dict(
        boundary=dict(
            temperature=dict(_delete_=True, type='FixedTemperature',
                             tau=1.0))))
