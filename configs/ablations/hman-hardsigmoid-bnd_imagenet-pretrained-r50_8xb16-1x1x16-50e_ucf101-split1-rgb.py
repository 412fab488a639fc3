# HM-AN ablation on UCF101 split 1: the head delta of
# configs/_base_/ablations/hardsigmoid_boundaries.py, its slope annealed at
# the per-iteration rate of this schedule.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py',
    '../_base_/ablations/hardsigmoid_boundaries.py'
]

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                _base_.hardsigmoid_boundaries.rnn.boundary, slope_rate=1e-4))))
