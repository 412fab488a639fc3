# Recipe (b), end to end from scratch: HM-AN with Gumbel-hard attention on the demo
# data with the two head options that let a random backbone learn through a
# random recurrent head (docs/training_recipes.md): a linear path from each
# step's glimpse to its scores, and TSN's loss on the frame features
# (training only) so that the backbone gets TSN's gradient from step 0.
_base_ = ['./hman-hard-att_demo.py']

model = dict(
    cls_head=dict(
        glimpse_residual=True,
        loss_aux=dict(type='CrossEntropyLoss', loss_weight=1.0)))
