# Diagnostic UPPER BOUND for the causal timing: oracle boundaries (reading
# the test video's labels) at the first step of each new motion, where
# timing='pre' needs them (the oracle's offset follows the timing).
_base_ = ['./hman-oracle-bnd_demo.py']

model = dict(cls_head=dict(rnn=dict(timing='pre')))
