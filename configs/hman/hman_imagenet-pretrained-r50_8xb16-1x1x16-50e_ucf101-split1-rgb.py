# HM-AN (Yan et al. 2017) on UCF101: ImageNet-pretrained ResNet-50
# Recognizer2D, 16 TSN-style segments, 2-layer HM-LSTM with Gumbel boundary
# detectors and adaptive temperature, soft content attention.
#
# 1 GPU:    python tools/train.py configs/hman_ucf101.py
# 8 GPUs:   bash tools/dist_train.sh configs/hman_ucf101.py 8
# slurm:    GPUS=8 srun -p PARTITION --gres=gpu:8 --ntasks=8 \
#             --ntasks-per-node=8 --cpus-per-task=5 --kill-on-bad-exit=1 \
#             python -u tools/train.py configs/hman_ucf101.py --launcher slurm
# CPU:      python tools/train.py configs/hman_ucf101.py (gloo, slow)
# test:     python tools/test.py configs/hman_ucf101.py CHECKPOINT
# splits 2, 3: configs/hman/hman_*_ucf101-split2-rgb.py, *-split3-rgb.py
_base_ = [
    '../_base_/models/hman_r50.py',
    '../_base_/datasets/ucf101_tsn-1x1x16-rgb.py',
    '../_base_/schedules/sgd_50e_clip20.py', '../_base_/default_runtime.py'
]

model = dict(
    cls_head=dict(
        num_classes=_base_.num_classes, num_segments=_base_.num_segments))
