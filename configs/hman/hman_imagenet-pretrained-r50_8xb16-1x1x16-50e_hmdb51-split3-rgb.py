# HM-AN on HMDB51 split 3: the split-1 config with split 3's lists.
#   python tools/train.py THIS_CONFIG
_base_ = [
    './hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_hmdb51-split1-rgb.py'
]

split = 3
ann_file_train = f'data/hmdb51/hmdb51_train_split_{split}_videos.txt'
ann_file_val = f'data/hmdb51/hmdb51_val_split_{split}_videos.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val))
