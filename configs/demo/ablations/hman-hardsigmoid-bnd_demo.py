# Ablation of the demo config: deterministic (hard-sigmoid) boundaries
# (configs/_base_/ablations/hardsigmoid_boundaries.py).
_base_ = [
    '../../hman_demo.py', '../../_base_/ablations/hardsigmoid_boundaries.py'
]

model = dict(cls_head=_base_.hardsigmoid_boundaries)
