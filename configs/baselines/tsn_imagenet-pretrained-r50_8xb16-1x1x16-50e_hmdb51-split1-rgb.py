# TSN-R50 (mmaction2's own TSNHead: average of per-frame scores) on the
# identical backbone, data, sampling and schedule as HM-AN.
_base_ = [
    '../hman/hman_imagenet-pretrained-r50_8xb16-1x1x16-50e_hmdb51-split1-rgb.py'
]

model = dict(
    cls_head=dict(
        _delete_=True,
        type='TSNHead',
        num_classes=_base_.num_classes,
        in_channels=2048,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.4,
        init_std=0.01,
        average_clips='prob'))
