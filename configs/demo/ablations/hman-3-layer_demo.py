# Ablation of the demo config: three recurrent layers
# (configs/_base_/ablations/three_layer.py).
_base_ = ['../../hman_demo.py', '../../_base_/ablations/three_layer.py']

model = dict(cls_head=_base_.three_layer)
