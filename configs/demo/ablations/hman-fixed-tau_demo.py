# Ablation of the demo config: boundaries at a fixed temperature
# (configs/_base_/ablations/fixed_tau.py).
_base_ = ['../../hman_demo.py', '../../_base_/ablations/fixed_tau.py']

model = dict(cls_head=_base_.fixed_tau)
