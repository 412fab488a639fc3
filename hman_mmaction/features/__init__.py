"""Frozen-backbone feature cache: extract backbone features once
(:func:`extract_features`), then train and test heads on them
(``CachedFeatureDataset`` + ``CachedFeatureRecognizer``, registered in
mmaction2's registries)."""
from .dataset import CachedFeatureDataset, LoadCachedFeatures
from .extract import extract_features, extract_split
from .recognizer import CachedFeatureRecognizer
from .store import FeatureStore, IncompleteStoreError, StoreMismatchError

__all__ = [
    'CachedFeatureDataset', 'CachedFeatureRecognizer', 'FeatureStore',
    'IncompleteStoreError', 'LoadCachedFeatures', 'StoreMismatchError',
    'extract_features', 'extract_split'
]
