# Short name for HM-AN on UCF101 split 1
# (splits 2 and 3: configs/hman/*_ucf101-split{2,3}-rgb.py):
#   python tools/train.py configs/hman_ucf101.py
_base_ = [
    './hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_ucf101-split1-rgb.py'
]
