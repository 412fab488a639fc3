# SUPERVISED lever (reads labels the real datasets do not have): the causal
# detector of hman-causal-bnd_demo.py trained on the ground-truth motion
# changes (gt_segments) instead of self-made targets.
_base_ = ['./hman-causal-bnd_demo.py']

model = dict(cls_head=dict(loss_segment=dict(targets='segments')))
