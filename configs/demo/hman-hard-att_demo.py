# HM-AN with stochastic hard attention (one location per step, Gumbel
# straight-through in training, argmax at test) on the demo data.
_base_ = ['../hman_demo.py', '../_base_/ablations/hard_attention.py']

model = dict(cls_head=_base_.hard_attention)
