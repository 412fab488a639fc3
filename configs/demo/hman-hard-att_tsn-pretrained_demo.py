# Recipe (a) with hard attention: the Gumbel-hard head on the frozen
# backbone of the TSN trained on the same videos.
_base_ = [
    './hman_tsn-pretrained_demo.py', '../_base_/ablations/hard_attention.py'
]

model = dict(cls_head=_base_.hard_attention)
