# Ablation: no boundary detector (every layer updates every step). This is
# exactly the Att-LSTM baseline, reached from the main config.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py'
]

model = dict(
    cls_head=dict(rnn=dict(boundary=dict(_delete_=True, type='NoBoundary'))))
