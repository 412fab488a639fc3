# Demo ablation: no boundary detector (= the Att-LSTM baseline).
_base_ = ['../../hman_demo.py']

model = dict(
    cls_head=dict(rnn=dict(boundary=dict(_delete_=True, type='NoBoundary'))))
