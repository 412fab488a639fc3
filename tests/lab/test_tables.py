"""One mean ± std and one markdown table for every report."""
import math

import pytest

from hman_lab.accuracy import scores as accuracy
from hman_lab.tables import format_mean_std, markdown_table, mean_std


def test_mean_std_is_the_sample_std_and_ignores_nan():
    mean, std = mean_std([0.5, 0.7, float('nan')])
    assert mean == pytest.approx(0.6)
    assert std == pytest.approx(0.1414213, abs=1e-6)  # n - 1


def test_mean_std_of_one_value_has_no_std_and_of_none_no_mean():
    mean, std = mean_std([0.25])
    assert mean == 0.25 and math.isnan(std)
    assert all(math.isnan(v) for v in mean_std([float('nan')]))
    assert all(math.isnan(v) for v in mean_std([]))


def test_format_mean_std_in_percent_or_plain_with_a_dash_when_undefined():
    assert format_mean_std([0.5, 0.7]) == '60.0 ± 14.1'
    assert format_mean_std([0.25]) == '25.0 ± —'
    assert format_mean_std([]) == '— ± —'
    assert format_mean_std([1.0, 2.0], percent=False, digits=2) == \
        '1.50 ± 0.71'


def test_markdown_table_with_alignment():
    table = markdown_table(['a', 'b'], [[1, 'x'], ['2', 3.5]],
                           align=['left', 'right'])
    assert table.splitlines() == [
        '| a | b |', '| :--- | ---: |', '| 1 | x |', '| 2 | 3.5 |'
    ]
    assert markdown_table(['a'], []).splitlines()[1] == '| --- |'


def test_markdown_table_refuses_a_row_of_the_wrong_width():
    with pytest.raises(ValueError, match='row 0 has 1 cells'):
        markdown_table(['a', 'b'], [[1]])
    with pytest.raises(ValueError, match='unknown alignment'):
        markdown_table(['a'], [], align=['middle'])


def test_accuracy_module_uses_the_same_statistics():
    assert accuracy.mean_std is mean_std
    assert accuracy.percent_mean_std([0.5, 0.7]) == '60.0 ± 14.1'
