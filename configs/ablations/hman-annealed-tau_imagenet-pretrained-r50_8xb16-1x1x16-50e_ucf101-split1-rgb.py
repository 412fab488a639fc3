# HM-AN ablation on UCF101 split 1: the head delta of
# configs/_base_/ablations/annealed_tau.py, annealed at the per-iteration
# rate of this schedule (tau reaches 0.1 after ~23k iterations).
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py',
    '../_base_/ablations/annealed_tau.py'
]

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                temperature=dict(
                    _base_.annealed_tau.rnn.boundary.temperature,
                    rate=1e-4)))))
