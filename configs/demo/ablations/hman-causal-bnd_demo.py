# Lever of the default detector: the causal boundary without the next-step
# predictor. Layer 1's change signal is the maps' change alone, and its
# self-made targets sit at the peaks of that change (score='map') instead of
# the predictor's error (docs/boundaries.md, "Causal boundaries").
_base_ = ['../../hman_demo.py']

model = dict(
    cls_head=dict(
        change_features=['map_diff', 'map_change'],
        loss_predict=None,
        loss_segment=dict(score='map')))
