# The unsupervised boundary levers together: change features, the rate
# target from the data with a calibrated test-time decision, and the dense
# predictive loss (docs/boundaries.md).
_base_ = ['./hman-post-bnd_demo.py']

model = dict(
    cls_head=dict(
        change_features=['map_diff'],
        rnn=dict(boundary=dict(eval_decision='calibrated')),
        loss_boundary=dict(target_rate='auto'),
        loss_predict=dict(
            _delete_=True,
            type='NextStepPredictionLoss',
            loss_weight=1.0,
            target='frame')))
