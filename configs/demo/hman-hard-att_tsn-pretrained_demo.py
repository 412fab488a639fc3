# Recipe (a) with Gumbel-hard attention: the demo's HM-AN head on the frozen
# backbone of the demo TSN (configs/demo/hman_tsn-pretrained_demo.py), one
# location per step. The attention lever that measures best on the demo
# task (docs/visualization.md, "Measured levers"); the README's attention
# figure comes from it:
#   python tools/make_readme_figures.py --train --prefix hman_demo_hard \
#       --config configs/demo/hman-hard-att_tsn-pretrained_demo.py \
#       --work-dir work_dirs/hman_hard_demo
_base_ = ['./hman_tsn-pretrained_demo.py']

model = dict(
    cls_head=dict(
        attention=dict(
            type='GumbelHardAttention',
            temperature=dict(type='AdaptiveTemperature'),
            eval_mode='argmax')))
