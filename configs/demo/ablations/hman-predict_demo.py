# Boundary lever: a dense predictive loss, layer 1 predicts the next step's
# mean frame feature (NextStepPredictor, trained by NextStepPredictionLoss;
# docs/boundaries.md).
_base_ = ['../../hman_demo.py']

model = dict(
    cls_head=dict(
        predictor=dict(type='NextStepPredictor', target='frame'),
        loss_predict=dict(type='NextStepPredictionLoss', loss_weight=1.0)))
