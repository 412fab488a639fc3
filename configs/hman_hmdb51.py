# Short name for HM-AN on HMDB51 split 1 (HMDB51_SPLIT=2|3 for the others):
#   python tools/train.py configs/hman_hmdb51.py
_base_ = ['./hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_hmdb51-split1-rgb.py']
