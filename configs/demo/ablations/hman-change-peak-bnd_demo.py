# Reference row, training-free: layer 1's boundaries at the peaks of the
# maps' change, fired at a fixed rate (ChangePeakBoundary), in the causal
# timing. A learned detector has to beat it.
_base_ = ['../../hman_demo.py', '../../_base_/ablations/paper_boundaries.py']

model = dict(
    cls_head=dict(
        _base_.paper_boundaries,
        rnn=dict(
            _base_.paper_boundaries.rnn,
            timing='pre',
            boundary=dict(_delete_=True, type='ChangePeakBoundary',
                          rate=0.15))))
