# Lever of the causal boundary: a linear readout of [x_t ; delta_t ;
# h_{t-1}] instead of the MLP.
_base_ = ['./hman-causal-bnd_demo.py']

model = dict(cls_head=dict(rnn=dict(readout=dict(hidden_size=None))))
