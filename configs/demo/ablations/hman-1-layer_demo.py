# Ablation of the demo config: one recurrent layer
# (configs/_base_/ablations/one_layer.py).
_base_ = ['../../hman_demo.py', '../../_base_/ablations/one_layer.py']

model = dict(cls_head=_base_.one_layer)
