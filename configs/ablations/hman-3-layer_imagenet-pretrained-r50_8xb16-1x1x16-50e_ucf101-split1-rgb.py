# Ablation: 3-layer HM-LSTM instead of 2 layers.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py'
]

model = dict(cls_head=dict(rnn=dict(num_layers=3)))
