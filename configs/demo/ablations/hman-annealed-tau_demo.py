# Ablation of the demo config: boundaries at an annealed temperature
# (configs/_base_/ablations/annealed_tau.py).
_base_ = ['../../hman_demo.py', '../../_base_/ablations/annealed_tau.py']

model = dict(cls_head=_base_.annealed_tau)
