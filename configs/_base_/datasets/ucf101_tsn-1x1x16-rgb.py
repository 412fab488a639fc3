# UCF101 in mmaction2's standard layout (tools/data/ucf101 of mmaction2):
#   data/ucf101/videos/<ClassName>/<video>.avi
#   data/ucf101/ucf101_{train,val}_split_{1,2,3}_videos.txt  ("<path> <label>")
# The official split is chosen by one variable: UCF101_SPLIT=2 (or 3) in the
# environment, e.g.  UCF101_SPLIT=2 python tools/train.py configs/hman_ucf101.py
#   --work-dir work_dirs/hman_ucf101_split2
_base_ = ['./tsn_video_pipelines.py']

dataset_type = 'CheckedVideoDataset'  # VideoDataset + input checks
data_root = 'data/ucf101'
split = {{'$UCF101_SPLIT:1'}}  # official train/test split: 1, 2 or 3
num_classes = 101
ann_file_train = f'{data_root}/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'{data_root}/ucf101_val_split_{split}_videos.txt'
ann_file_test = ann_file_val

train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        num_classes=num_classes,
        ann_file=ann_file_train,
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=_base_.train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        num_classes=num_classes,
        ann_file=ann_file_val,
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=_base_.val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        num_classes=num_classes,
        ann_file=ann_file_test,
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=_base_.test_pipeline,
        test_mode=True))

val_evaluator = dict(type='RobustAccMetric')  # AccMetric + broken_videos
test_evaluator = val_evaluator
