# SUPERVISED causal boundaries (beyond the paper; report apart): the causal
# head of hman-causal-bnd_demo.py with its self-made targets replaced by
# the ground-truth sub-action changes, at the step timing='pre' needs. The
# pipelines of the oracle config pack the segments it reads.
_base_ = [
    './hman-oracle-bnd_demo.py', '../../_base_/models/causal_boundaries.py'
]

model = dict(
    cls_head=dict(
        rnn=dict(
            boundary=dict(
                _delete_=True,
                type='GumbelBoundary',
                temperature=dict(type='AdaptiveTemperature')),
            timing='pre',
            readout=_base_.causal_boundaries.rnn.readout),
        change_features=_base_.causal_boundaries.change_features,
        loss_boundary=_base_.causal_boundaries.loss_boundary,
        loss_segment=dict(
            type='BoundarySupervisionLoss',
            targets='segments',
            loss_weight=1.0)))
