# Diagnostic, never a result: layer 1's boundaries forced at the
# ground-truth motion changes (OracleBoundary, from the data samples'
# gt_segments and frame_inds) in the paper's timing, the upper bound of
# what learned boundaries can bring. hman-random-bnd_demo.py fires as often
# at random steps; hman-causal-oracle-bnd_demo.py uses the causal timing.
_base_ = ['../../hman_demo.py', '../../_base_/ablations/paper_boundaries.py']

model = dict(
    cls_head=dict(
        _base_.paper_boundaries,
        rnn=dict(
            _base_.paper_boundaries.rnn,
            boundary=dict(_delete_=True, type='OracleBoundary'))))
