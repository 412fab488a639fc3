# HM-AN with Gumbel hard attention + adaptive temperature on the demo data.
_base_ = ['../hman_demo.py']

model = dict(
    cls_head=dict(
        attention=dict(
            type='GumbelHardAttention',
            temperature=dict(type='AdaptiveTemperature'),
            eval_mode='argmax')))
