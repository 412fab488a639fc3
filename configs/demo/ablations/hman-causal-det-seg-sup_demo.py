# SUPERVISED, deterministic: the causal segment-supervised head with
# HardSigmoidBoundary decisions in training and at test time.
_base_ = ['./hman-causal-seg-sup_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(boundary=dict(_delete_=True, type='HardSigmoidBoundary'))))
