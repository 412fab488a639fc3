"""Shared test set-up: the plugin is imported (compat fixes + registries)
and mmaction is the default registry scope, as in every config."""
import logging

import pytest
import torch
from mmaction.utils import register_all_modules
from mmengine.registry import DefaultScope

import hman_mmaction  # noqa: F401  (applies compat fixes, registers models)

register_all_modules(init_default_scope=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Fixtures (of any scope) build their models in mmaction's scope too,
    whatever Runner an earlier test created."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        yield


@pytest.fixture(autouse=True)
def _seeded_in_mmaction_scope():
    # A Runner built in a test creates a newer default scope; every test
    # starts again from mmaction's, as a config run would.
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        yield


@pytest.fixture
def logged():
    """The messages logged through mmengine's current logger during the
    test (the plugin logs there instead of printing)."""
    from mmengine.logging import MMLogger
    messages = []

    class Collect(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = Collect(logging.DEBUG)
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)
