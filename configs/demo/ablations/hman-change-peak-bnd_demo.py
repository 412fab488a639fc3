# Training-free reference detector: layer 1 fires where the mean frame
# features change most (ChangePeakBoundary: their squared distance above
# the running 0.85 quantile of training steps), in the step that shows the
# change (timing='pre'). Reads no label; any learned detector must beat it.
_base_ = ['../../hman_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(
            timing='pre',
            boundary=dict(_delete_=True, type='ChangePeakBoundary',
                          rate=0.15))))
