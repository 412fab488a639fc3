# Recipe (b) lever (docs/training_recipes.md): the recipe-b hard config
# (soft-to-hard curriculum over 300 iterations, glimpse_residual, loss_aux)
# with the attention's scores learning by the score-function (REINFORCE)
# estimator with a learned baseline, as Xu et al.'s hard attention ("Show,
# Attend and Tell"), instead of the straight-through Gumbel-softmax
# gradient: the sample carries no gradient, and loss_score_function = -(R -
# b_t) log p(s_t) + (b_t - R)^2 with R = log p(y | glimpses) and b_t a linear
# function of the previous hidden state.
_base_ = ['../hman-hard-att_scratch_demo.py']

model = dict(
    cls_head=dict(
        attention=dict(estimator='score_function'),
        loss_score_function=dict(
            type='AttentionScoreFunctionLoss',
            loss_weight=1.0,
            baseline='learned')))
# Measured (docs/training_recipes.md, levers): 39.4 +- 13.9 % top-1 over
# seeds 0-2 with the learned baseline; 80.6 +- 14.7 % with
# --head-options model.cls_head.loss_score_function.baseline=mean.
