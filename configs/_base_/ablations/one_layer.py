# One recurrent layer: no layer above a boundary detector, so there is none
# (top_boundary=False) and the boundary pieces of the default go with it;
# HM-AN's hierarchy removed, one LSTM layer with attention
# (head delta: model = dict(cls_head=_base_.one_layer)).
_base_ = ['./paper_boundaries.py']

one_layer = dict(
    _base_.paper_boundaries,
    rnn=dict(_base_.paper_boundaries.rnn, num_layers=1))
