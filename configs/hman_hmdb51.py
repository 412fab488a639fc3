# Short name for HM-AN on HMDB51 split 1
# (splits 2 and 3: configs/hman/*_hmdb51-split{2,3}-rgb.py):
#   python tools/train.py configs/hman_hmdb51.py
_base_ = [
    './hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_hmdb51-split1-rgb.py'
]
