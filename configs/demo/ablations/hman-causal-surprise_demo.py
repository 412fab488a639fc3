# Lever of the causal boundary (perceptual prediction, Aakur & Sarkar 2019):
# a next-step predictor trained by its own loss (layer 1 predicts the next
# mean frame feature); layer 1's boundary learns to fire at the peaks of its
# error (self-made targets, score='pred_error') and also reads that error.
_base_ = ['./hman-causal-bnd_demo.py']

model = dict(
    cls_head=dict(
        change_features=['map_diff', 'map_change', 'pred_error'],
        predictor=dict(type='NextStepPredictor', target='frame'),
        loss_predict=dict(type='NextStepPredictionLoss', loss_weight=1.0),
        loss_segment=dict(score='pred_error')))
