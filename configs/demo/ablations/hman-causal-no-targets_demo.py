# Lever of the causal boundary: without the self-made change-peak targets
# (only the classification and rate losses move the detector).
_base_ = ['./hman-causal-bnd_demo.py']

model = dict(cls_head=dict(loss_segment=None))
