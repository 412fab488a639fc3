# Att-LSTM baseline (Sharma et al.) on the demo data: HM-AN with NoBoundary.
_base_ = ['../hman_demo.py']

model = dict(
    cls_head=dict(rnn=dict(boundary=dict(_delete_=True, type='NoBoundary'))))
