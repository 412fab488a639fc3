# Stochastic hard attention (HM-AN): one location per step, sampled with a
# straight-through Gumbel-softmax at an adaptive temperature in training,
# the argmax at test (head delta: model = dict(cls_head=_base_.hard_attention)).
hard_attention = dict(
    attention=dict(
        type='GumbelHardAttention',
        temperature=dict(type='AdaptiveTemperature'),
        eval_mode='argmax'))
