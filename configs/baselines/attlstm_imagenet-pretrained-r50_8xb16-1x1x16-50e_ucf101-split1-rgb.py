# The paper's baseline: LSTM with soft attention (Sharma et al. 2015).
# It is HM-AN with the boundary detectors switched off (NoBoundary: every
# layer updates at every step = a stacked LSTM), everything else identical.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py',
    '../_base_/ablations/no_boundaries.py'
]

model = dict(cls_head=_base_.no_boundaries)
