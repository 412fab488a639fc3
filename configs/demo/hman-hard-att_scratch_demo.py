# Recipe (b), end to end from scratch: HM-AN with Gumbel-hard attention on the demo
# data with the two head options that let a random backbone learn through a
# random recurrent head (docs/training_recipes.md): a linear path from each
# step's glimpse to its scores, and TSN's loss on the frame features
# (training only) so that the backbone gets TSN's gradient from step 0.
# Hard attention also needs a soft-to-hard curriculum: the training glimpse
# is (1 - beta) x the Gumbel-hard sample + beta x the soft glimpse, beta
# falling linearly from 1 to 0 over the first 300 iterations (the
# benchmark's 4 epochs of 75); from then on, and at test time, it is plain
# hard attention. Without it 2 of 3 seeds never leave the initial plateau
# (docs/training_recipes.md has the measurements).
_base_ = ['./hman-hard-att_demo.py']

model = dict(
    cls_head=dict(
        attention=dict(
            soft_mix=dict(type='LinearDecay', start=1.0, end_iter=300)),
        glimpse_residual=True,
        loss_aux=dict(type='CrossEntropyLoss', loss_weight=1.0)))
