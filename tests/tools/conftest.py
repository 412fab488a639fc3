import pytest

from tests.helpers import make_tiny_dataset


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory):
    """8 train, 4 val, 4 test synthetic videos shared by the tool tests."""
    return make_tiny_dataset(tmp_path_factory.mktemp('synthetic_actions'))
