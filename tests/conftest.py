"""Shared test set-up: the plugin is imported (compat fixes + registries)
and mmaction is the default registry scope, as in every config."""
import pytest
import torch
from mmaction.utils import register_all_modules

import hman_mmaction  # noqa: F401  (applies compat fixes, registers models)

register_all_modules(init_default_scope=True)


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
    yield
