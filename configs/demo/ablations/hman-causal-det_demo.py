# Lever of the causal boundary: deterministic decisions in training too
# (HardSigmoidBoundary: z = 1[z_hat > 0], straight-through), so that the
# layers above learn from the boundaries the detector will give at test
# time rather than from Bernoulli samples of them.
_base_ = ['./hman-causal-bnd_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(boundary=dict(_delete_=True, type='HardSigmoidBoundary'))))
