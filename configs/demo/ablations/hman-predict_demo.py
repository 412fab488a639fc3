# Boundary lever of the paper detector: a dense predictive loss, layer 1
# predicts the next step's mean frame feature (NextStepPredictor, trained by
# NextStepPredictionLoss; docs/boundaries.md).
_base_ = ['./hman-post-bnd_demo.py']

model = dict(
    cls_head=dict(
        predictor=dict(
            _delete_=True, type='NextStepPredictor', target='frame'),
        loss_predict=dict(
            _delete_=True, type='NextStepPredictionLoss', loss_weight=1.0)))
