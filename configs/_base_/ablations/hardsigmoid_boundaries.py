# Deterministic boundaries: Chung et al.'s hard sigmoid with a
# straight-through estimator, its slope annealed per iteration from 1 to 5
# (head delta: model = dict(cls_head=_base_.hardsigmoid_boundaries); a
# config with another schedule sets its own slope_rate).
hardsigmoid_boundaries = dict(
    rnn=dict(
        boundary=dict(
            _delete_=True,
            type='HardSigmoidBoundary',
            slope=1.0,
            slope_max=5.0,
            slope_rate=5e-3)))
