# The paper's baseline on the demo data: LSTM with soft attention (Sharma
# et al. 2015) = HM-AN with the boundary detectors switched off
# (NoBoundary: every layer updates at every step, a stacked LSTM),
# everything else identical.
_base_ = ['../hman_demo.py', '../_base_/ablations/no_boundaries.py']

model = dict(cls_head=_base_.no_boundaries)
