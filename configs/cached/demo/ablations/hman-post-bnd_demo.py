# Cached-feature form of configs/demo/ablations/hman-post-bnd_demo.py:
# the same head, schedule and evaluation, trained and tested on the stored
# features of the trained demo backbone (model = head only; data = the
# feature store of configs/cached/_base_/demo_feature_store.py).
_base_ = [
    '../../../demo/ablations/hman-post-bnd_demo.py',
    '../../_base_/demo_feature_store.py'
]

model = dict(**_base_.cached_model, cls_head=_base_.model.cls_head)
train_dataloader = _base_.cached_train_dataloader
val_dataloader = _base_.cached_val_dataloader
test_dataloader = _base_.cached_test_dataloader
