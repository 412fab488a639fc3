# HM-AN with the causal boundary (configs/_base_/models/causal_boundaries.py,
# docs/boundaries.md "Causal boundaries"): decided before the cell update
# from the glimpse, its change and h_{t-1}, acting in the same step; an MLP
# readout; self-made targets at the peaks of the frames' change (no label).
_base_ = ['../../hman_demo.py', '../../_base_/models/causal_boundaries.py']

model = dict(cls_head=_base_.causal_boundaries)
