# Diagnostic UPPER BOUND, never a result: layer 1's boundaries fire at the
# ground-truth sub-action changes of each clip (OracleBoundary reads the
# data's <split>_segments.json through the samples' gt_segments and
# frame_inds, which every pipeline below packs). It answers "does this task
# reward boundaries in the right place?" (docs/boundaries.md).
_base_ = ['../../hman_demo.py']

model = dict(
    cls_head=dict(
        rnn=dict(boundary=dict(_delete_=True, type='OracleBoundary'))))
meta_keys = ('img_shape', 'frame_inds', 'gt_segments')
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(t, meta_keys=meta_keys) if t['type'] == 'PackActionInputs' else t
        for t in _base_.train_pipeline
    ]))
val_dataloader = dict(
    dataset=dict(pipeline=[
        dict(t, meta_keys=meta_keys) if t['type'] == 'PackActionInputs' else t
        for t in _base_.val_pipeline
    ]))
test_dataloader = dict(
    dataset=dict(pipeline=[
        dict(t, meta_keys=meta_keys) if t['type'] == 'PackActionInputs' else t
        for t in _base_.test_pipeline
    ]))
