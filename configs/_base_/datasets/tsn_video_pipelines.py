# mmaction2's TSN-style video pipelines and dataloaders for sequence heads:
# `num_segments` segments, one frame each (1x1xT), decoded with decord,
# resized and cropped to the 224x224 the ImageNet backbones are built for.
# Views at test time: two interleaved samplings of the whole video
# (twice_sample) x ThreeCrop = 6 views of `num_segments` frames; the head
# scores every view and BaseHead.average_clip averages them.
# The dataset bases (ucf101_*, hmdb51_*) add only the data: the annotation
# files, the video folder and the number of classes.
num_segments = 16
# mmaction2's VideoDataset with checked annotations and videos
# (hman_mmaction/datasets/checked_video_dataset.py); same arguments
dataset_type = 'CheckedVideoDataset'
file_client_args = dict(io_backend='disk')
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_segments),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_segments,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_segments,
        twice_sample=True,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]

# Training workers are started afresh every epoch, so that a resumed run
# draws the same augmentations as an uninterrupted one
# (docs/robustness.md, "Exact resume").
train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, pipeline=test_pipeline, test_mode=True))

val_evaluator = dict(type='RobustAccMetric')  # AccMetric + broken_videos
test_evaluator = val_evaluator
