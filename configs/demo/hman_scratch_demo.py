# Recipe (b) of docs/training_recipes.md: HM-AN end to end from scratch on
# the demo data. A direct path from each glimpse to the classes and a
# per-frame TSN-style loss give the backbone a TSN-like gradient through the
# random recurrent head. It keeps the paper's boundary detector: with the
# causal detector of hman_demo.py this recipe fell to 34 % top-1
# (docs/training_recipes.md).
_base_ = ['./ablations/hman-post-bnd_demo.py']

model = dict(
    cls_head=dict(
        glimpse_residual=True,
        loss_aux=dict(type='CrossEntropyLoss', loss_weight=1.0)))
