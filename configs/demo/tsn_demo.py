# TSN baseline on the demo data: mmaction2's TSNHead (mean of per-frame
# scores, blind to frame order) on the identical backbone/data/schedule.
_base_ = ['../hman_demo.py']

model = dict(
    cls_head=dict(
        _delete_=True,
        type='TSNHead',
        num_classes=_base_.num_classes,
        in_channels=128,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.2,
        init_std=0.01,
        average_clips='prob'))
