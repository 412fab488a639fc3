# Demo ablation: 1-layer HM-LSTM instead of 2 layers.
_base_ = ['../../hman_demo.py']

model = dict(cls_head=dict(rnn=dict(num_layers=1)))
