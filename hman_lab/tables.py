"""Statistics over seeds and markdown tables, shared by every report.

* :func:`mean_std`: mean and sample standard deviation (``n - 1``) of the
  finite values, NaN ignored; the std is NaN for fewer than two values (a
  sample std is undefined there), both are NaN for none.
* :func:`format_mean_std`: ``'m ± s'`` with one decimal, in percent by
  default (fractions in, percent out); an undefined figure prints ``—``.
* :func:`markdown_table`: a GitHub markdown table from headers and rows.
"""
import math
import statistics
from typing import Iterable, Optional, Sequence, Tuple

NA = '—'
ALIGNMENTS = {'left': ':---', 'right': '---:', 'center': ':---:', None: '---'}


def mean_std(values: Iterable[float]) -> Tuple[float, float]:
    """``(mean, sample std)`` of the non-NaN ``values`` (see module doc)."""
    finite = [float(v) for v in values if not math.isnan(v)]
    if not finite:
        return math.nan, math.nan
    std = statistics.stdev(finite) if len(finite) > 1 else math.nan
    return statistics.fmean(finite), std


def _number(value: float, scale: float, digits: int) -> str:
    return NA if math.isnan(value) else f'{scale * value:.{digits}f}'


def format_mean_std(values: Iterable[float],
                    percent: bool = True,
                    digits: int = 1) -> str:
    """``'mean ± std'`` of ``values`` (fractions shown in percent when
    ``percent``), ``digits`` decimals, ``—`` for an undefined figure."""
    mean, std = mean_std(values)
    scale = 100.0 if percent else 1.0
    return f'{_number(mean, scale, digits)} ± {_number(std, scale, digits)}'


def markdown_table(headers: Sequence[str],
                   rows: Iterable[Sequence[object]],
                   align: Optional[Sequence[Optional[str]]] = None) -> str:
    """A markdown table (no trailing newline).

    Args:
        headers: the column titles.
        rows: one sequence of cells per row (``str()`` of each cell), as
            many cells as ``headers``.
        align: per column ``'left'``, ``'right'``, ``'center'`` or None
            (the renderer's default). Defaults to None for every column.
    """
    align = [None] * len(headers) if align is None else list(align)
    if len(align) != len(headers):
        raise ValueError(f'{len(headers)} headers but {len(align)} '
                         'alignments')
    unknown = [a for a in align if a not in ALIGNMENTS]
    if unknown:
        raise ValueError(f'unknown alignment(s) {unknown}; use one of '
                         f'{[a for a in ALIGNMENTS if a]} or None')
    lines = [_row(headers), _row(ALIGNMENTS[a] for a in align)]
    for number, row in enumerate(rows):
        row = list(row)
        if len(row) != len(headers):
            raise ValueError(f'row {number} has {len(row)} cells, the table '
                             f'{len(headers)} columns: {row}')
        lines.append(_row(row))
    return '\n'.join(lines)


def _row(cells: Iterable[object]) -> str:
    return '| ' + ' | '.join(str(cell) for cell in cells) + ' |'
