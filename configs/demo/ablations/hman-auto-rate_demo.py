# Boundary lever of the paper detector: the rate target from the training data (the ground-truth
# change rate per sampled step, set by BoundaryRateFromDataHook) and a
# test-time decision that keeps the training rate (docs/boundaries.md).
_base_ = ['./hman-post-bnd_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(boundary=dict(eval_decision='calibrated')),
        loss_boundary=dict(target_rate='auto')))
