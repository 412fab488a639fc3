# The boundaries' Gumbel-softmax temperature annealed,
# tau = max(tau_min, tau_0 exp(-rate * iter)), instead of the adaptive one
# (head delta: model = dict(cls_head=_base_.annealed_tau)). The rate is per
# iteration: a config with another schedule sets its own, e.g.
#   temperature=dict(_base_.annealed_tau.rnn.boundary.temperature, rate=1e-4)
annealed_tau = dict(
    rnn=dict(
        boundary=dict(
            temperature=dict(
                _delete_=True,
                type='AnnealedTemperature',
                tau_0=1.0,
                tau_min=0.1,
                rate=3e-3))))
