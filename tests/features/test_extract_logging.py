"""The feature extraction quiets mmengine's per-parameter init log by
raising that one logger's level for the call, not process-wide."""
import logging

from hman_mmaction.features.extract import logger_level


def test_logger_level_is_scoped_to_one_logger_and_restored():
    quiet = logging.getLogger('hman_test_quiet')
    other = logging.getLogger('hman_test_other')
    quiet.setLevel(logging.INFO)
    with logger_level(quiet, logging.WARNING):
        assert not quiet.isEnabledFor(logging.INFO)
        assert quiet.isEnabledFor(logging.WARNING)
        assert other.isEnabledFor(logging.WARNING)
        assert logging.root.manager.disable == logging.NOTSET
    assert quiet.level == logging.INFO


def test_logger_level_never_lowers_a_stricter_level():
    strict = logging.getLogger('hman_test_strict')
    strict.setLevel(logging.ERROR)
    with logger_level(strict, logging.WARNING):
        assert not strict.isEnabledFor(logging.WARNING)
    assert strict.level == logging.ERROR
