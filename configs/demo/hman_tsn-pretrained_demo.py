# Recipe (a), the paper's regime, on the demo data: the HM-AN head trained
# on the frozen backbone of a TSN trained on the same videos
# (configs/demo/tsn_demo.py). `python tools/demo.py` trains that TSN first
# and passes its checkpoint; by hand:
#   python tools/train.py configs/demo/hman_tsn-pretrained_demo.py \
#       --cfg-options load_from=work_dirs/tsn_demo/epoch_12.pth
# `load_from` brings the backbone (the TSN head's keys are reported as not
# loaded); every backbone stage and its BatchNorm statistics stay frozen
# (frozen_stages covers the stem and both stages, norm_eval keeps BN in
# eval mode), so the head sees exactly the features TSN learned. The same
# head on the feature cache: configs/cached/hman_demo.py.
_base_ = ['../hman_demo.py']

model = dict(backbone=dict(frozen_stages=2, norm_eval=True))
load_from = None  # the TSN checkpoint, see above

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs)
# the base's warm-up and cosine decay, the decay over these epochs
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], T_max=max_epochs, end=max_epochs)
]
