# The paper's boundary detector (HM-LSTM, Chung et al. 2017, as HM-AN uses
# it), as a head delta: z_t is read off h_t after the cell update
# (timing='post'; z_t = 1 acts at t+1) by a linear readout, with no change
# signal, kept alive by the rate loss alone (docs/boundaries.md).
#   model = dict(cls_head=_base_.paper_boundaries)
paper_boundaries = dict(
    rnn=dict(timing='post', readout=None),
    change_features=[],
    loss_predict=None,
    loss_segment=None,
    loss_boundary=dict(target_rate=0.25))
