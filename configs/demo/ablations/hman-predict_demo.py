# Boundary lever of the paper detector: a dense predictive loss, layer 1 predicts the next step's
# mean frame feature (NextStepPredictionLoss, docs/boundaries.md).
_base_ = ['./hman-post-bnd_demo.py']

model = dict(
    cls_head=dict(
        loss_predict=dict(
            _delete_=True,
            type='NextStepPredictionLoss',
            loss_weight=1.0,
            target='frame')))
