# Boundary lever of the paper detector: layer 1's detector also sees what changed between
# consecutive frames, map_diff = mean_k |a_{t,k} - a_{t-1,k}| per channel
# (docs/boundaries.md, "What the detector sees").
_base_ = ['./hman-post-bnd_demo.py']

model = dict(cls_head=dict(change_features=['map_diff']))
