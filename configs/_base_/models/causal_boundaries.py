# The causal boundary (docs/boundaries.md, "Causal boundaries"), as a head
# delta that configs merge into their cls_head:
#   model = dict(cls_head=_base_.causal_boundaries)
# * timing='pre': layer 1 decides at step t, before its cell update, from
#   [x_t ; delta_t ; h_{t-1}], and z_t = 1 acts in the same step (layer 1
#   starts a new segment with x_t, layer 2 UPDATEs with the finished one);
# * an MLP readout (a change is a comparison: a linear readout of
#   [x_t ; h_{t-1}] cannot express it);
# * change signals of the feature maps: mean_k |a_{t,k} - a_{t-1,k}| per
#   channel and their squared change (one number per step);
# * unsupervised alignment: layer 1 learns to fire at the peaks of the
#   maps' own change (self-made targets, no label read), the rate loss kept
#   at the same rate.
causal_boundaries = dict(
    rnn=dict(
        timing='pre', readout=dict(type='BoundaryReadout', hidden_size=64)),
    change_features=['map_diff', 'map_change'],
    loss_boundary=dict(target_rate=0.15),
    loss_segment=dict(
        type='BoundarySupervisionLoss',
        targets='change_peaks',
        rate=0.15,
        loss_weight=1.0))
