# HM-AN ablation on UCF101 split 1: the head delta of
# configs/_base_/ablations/one_layer.py.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py',
    '../_base_/ablations/one_layer.py'
]

model = dict(cls_head=_base_.one_layer)
