# SUPERVISED boundaries (beyond the paper; report apart from the
# unsupervised rows): the levers of hman-bnd-levers_demo.py plus a per-step
# loss on layer 1's boundary logits against the ground-truth sub-action
# changes (BoundarySupervisionLoss). The pipelines of the oracle config
# pack the segments it reads.
_base_ = ['./hman-oracle-bnd_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                _delete_=True,
                type='GumbelBoundary',
                temperature=dict(type='AdaptiveTemperature'),
                eval_decision='calibrated')),
        change_features=['map_diff'],
        loss_boundary=dict(target_rate='auto'),
        loss_predict=dict(
            _delete_=True,
            type='NextStepPredictionLoss',
            loss_weight=1.0,
            target='frame'),
        loss_segment=dict(
            _delete_=True, type='BoundarySupervisionLoss', loss_weight=1.0)))
