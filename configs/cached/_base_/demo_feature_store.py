# The demo's feature store and the pieces every cached demo config swaps
# in: the three dataloaders read CachedFeatureDataset (no decoding, no
# backbone). Make the store once (after `python tools/demo.py`):
#   python tools/extract_features.py configs/hman_demo.py \
#       work_dirs/hman_demo/best_acc_top1_epoch_*.pth \
#       --out work_dirs/feature_cache/hman_demo --views 4
feature_store = 'work_dirs/feature_cache/hman_demo'

cached_model = dict(
    _delete_=True,
    type='CachedFeatureRecognizer',
    data_preprocessor=dict(type='ActionDataPreprocessor'))

cached_train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CachedFeatureDataset',
        store=feature_store,
        split='train'))
cached_val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CachedFeatureDataset',
        store=feature_store,
        split='val',
        test_mode=True))
cached_test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CachedFeatureDataset',
        store=feature_store,
        split='test',
        test_mode=True))
