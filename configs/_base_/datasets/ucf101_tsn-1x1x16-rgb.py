# UCF101 in mmaction2's standard layout (tools/data/ucf101 of mmaction2):
#   data/ucf101/videos/<ClassName>/<video>.avi
#   data/ucf101/ucf101_{train,val}_split_{1,2,3}_videos.txt  ("<path> <label>")
# Official split 1; splits 2 and 3 have their own configs (`*-split2-rgb.py`,
# `*-split3-rgb.py`), which inherit the split-1 config and change the lists.
_base_ = ['./tsn_video_pipelines.py']

data_root = 'data/ucf101'
split = 1  # official train/test split
num_classes = 101
ann_file_train = f'{data_root}/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'{data_root}/ucf101_val_split_{split}_videos.txt'
ann_file_test = ann_file_val
# what the three dataloaders of the shared base get, besides their list
video_data = dict(
    num_classes=num_classes, data_prefix=dict(video=f'{data_root}/videos'))
train_dataloader = dict(dataset=dict(video_data, ann_file=ann_file_train))
val_dataloader = dict(dataset=dict(video_data, ann_file=ann_file_val))
test_dataloader = dict(dataset=dict(video_data, ann_file=ann_file_test))
