"""Shared test set-up: the plugin is imported (compat fixes + registries)
and mmaction is the default registry scope, as in every config."""
import logging
import os

# One thread per process: `make test` runs the suite on two xdist workers
# (pytest.ini), each with one intra-op thread, so the two do not fight for
# the cores; set before torch is imported, inherited by the tools that tests
# start. An explicit OMP_NUM_THREADS wins.
os.environ.setdefault('OMP_NUM_THREADS', '1')

import pytest  # noqa: E402
import torch  # noqa: E402
from mmaction.utils import register_all_modules  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

import hman_mmaction  # noqa: F401,E402  (compat fixes, registers models)

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
