# No boundaries: a stacked LSTM with soft attention, Sharma et al.'s
# Att-LSTM (HM-AN's baseline), as a head delta:
#   model = dict(cls_head=_base_.no_boundaries)
_base_ = ['./paper_boundaries.py']

no_boundaries = dict(
    _base_.paper_boundaries,
    rnn=dict(
        _base_.paper_boundaries.rnn,
        boundary=dict(_delete_=True, type='NoBoundary')))
