"""A long-format file of many series (one row per series id and timestamp, the convention
of statsforecast and neuralforecast) -> checked, regular series of one frequency, or one
clear error that names the series, the column and the line.

Each series gets the checks of a one-series CSV (`reader.read_series`): numeric columns,
the fill policy, a frequency, a regular grid, categorical covariates.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnn_pipeline import choices
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.forecast.series.frame import check_columns, read_frame
from rnn_pipeline.tasks.forecast.series.reader import (
    Series, _categorical, _check_fill, _check_row_count, _fill_numbers,
    _infer_frequency, _is_text, _regular_grid, _Rows, _to_numbers,
    _to_timestamps)

TOO_SHORT_POLICIES = choices.TOO_SHORT_POLICIES.declared
PARQUET_SUFFIXES = (".parquet", ".pq")
SHORT_IDS_NAMED = 5  # a "too short" error names this many series, then counts the rest


@dataclass
class Panel:
    """The series of a long-format file, all at one frequency.

    Args:
        ids: the series ids (str), in the order they first appear in the file.
        series: one `reader.Series` per id, in the same order.
        frequency: pandas offset alias shared by every series, e.g. "h".
        dropped: (id, rows) of each series dropped as shorter than ``min_rows``.
    """

    ids: list
    series: list
    frequency: str
    dropped: list = field(default_factory=list)

    def __len__(self):
        return len(self.series)


@dataclass
class _Table:
    """The whole file's rows, sorted by (series, time), with the slices of each series.

    Args:
        ids: the series ids in order of first appearance.
        order: file positions of the rows sorted by (series, time), stably.
        starts: where each series' rows begin in ``order``; ``ends`` where they end.
        times: the timestamps in that order (a DatetimeIndex).
        rows: where each file position stands in the file (`reader._Rows`).
    """

    ids: list
    order: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    times: pd.DatetimeIndex
    rows: _Rows

    def series_rows(self, index):
        """(timestamps, `_Rows`) of series ``index``."""
        start, end = self.starts[index], self.ends[index]
        lines = self.rows.lines[self.order[start:end]]
        return (self.times[start:end],
                _Rows(self.rows.path, lines, self.ids[index], self.rows.noun))

    def rows_of(self, index, table):
        """The rows of series ``index`` in ``table`` (an array in file order), sorted by time."""
        return table[self.order[self.starts[index]:self.ends[index]]]


def _check_options(fill, min_rows, too_short):
    _check_fill(fill)
    if too_short not in TOO_SHORT_POLICIES:
        raise pipeline_error("series.too_short", f"must be one of: "
                             f"{', '.join(map(repr, TOO_SHORT_POLICIES))}", too_short)
    whole = isinstance(min_rows, (int, np.integer)) and not isinstance(min_rows, bool)
    if min_rows is not None and not (whole and min_rows >= 1):
        raise pipeline_error("min_rows", "must be a whole number of rows, 1 or more", min_rows)


def _series_ids(frame, rows, id_column):
    """The id of each row as a str array; a row without one is an error."""
    raw = frame[id_column]
    missing = np.flatnonzero(raw.isna().to_numpy())
    if missing.size:
        raise rows.error(missing[0], f"column {id_column!r} (series.id_column) must name the "
                         f"series of every row; this row has no id", "")
    return raw.astype(str).to_numpy(object)


def _sort(path, ids, times, rows):
    """Sorts the rows by (series in order of first appearance, time), stably; a series with
    a timestamp twice is an error at the first row of the file that repeats one."""
    codes, unique_ids = pd.factorize(ids)
    stamps = times.asi8
    order = np.argsort(stamps, kind="stable")
    order = order[np.argsort(codes[order], kind="stable")]
    sorted_codes, sorted_stamps = codes[order], stamps[order]
    repeats = order[1:][(sorted_codes[1:] == sorted_codes[:-1])
                        & (sorted_stamps[1:] == sorted_stamps[:-1])]
    if repeats.size:
        first = int(repeats.min())
        same = np.flatnonzero((codes == codes[first]) & (stamps == stamps[first]))
        lines = ", ".join(str(rows.line(position)) for position in same)
        raise _Rows(path, rows.lines, ids[first], rows.noun).error(
            first, f"repeats the timestamp {times[first]} ({rows.noun}s {lines}); a series "
            f"has one row per timestamp", str(times[first]))
    counts = np.bincount(codes, minlength=len(unique_ids))
    ends = np.cumsum(counts)
    return _Table(list(unique_ids), order, ends - counts, ends, times[order], rows)


def _common_frequency(table, path, argument):
    """The frequency inferred from every series of 3 rows or more: one for all, or one
    error at the first series whose frequency differs from the first series'."""
    first = None
    for index, series_id in enumerate(table.ids):
        times, rows = table.series_rows(index)
        if len(times) < 3:
            continue
        frequency = _infer_frequency(times, rows)
        if first is None:
            first = (series_id, frequency)
        elif frequency != first[1]:
            raise rows.error(0, f"steps {frequency!r} but series {first[0]!r} steps "
                             f"{first[1]!r}; the series of a file share one frequency: leave "
                             f"out the series that differ, or set series.frequency",
                             frequency)
    if first is None:
        longest = int((table.ends - table.starts).max())
        raise pipeline_error(argument, f"must have a series of at least 3 rows for "
                             f"series.frequency to be inferred (the longest has {longest}); "
                             f"set series.frequency", str(path))
    return first[1]


def _check_lengths(ids, lengths, path, argument, min_rows, too_short):
    """The indices of the series of ``min_rows`` rows or more, and (id, rows) of the others,
    which ``too_short = "refuse"`` makes an error."""
    short = [index for index, length in enumerate(lengths) if length < min_rows]
    if not short:
        return list(range(len(ids))), []
    shorter = [(ids[index], int(lengths[index])) for index in short]
    if len(short) == len(ids):
        longest = int(np.argmax(lengths))
        raise pipeline_error(argument, f"must have a series of at least {min_rows:,} rows "
                             f"(series.lookback plus the rows its splits need); all "
                             f"{len(ids):,} series are shorter (the longest, "
                             f"{ids[longest]!r}, has {lengths[longest]:,})", str(path))
    if too_short == "refuse":
        named = ", ".join(f"{series_id!r} ({length:,} rows)"
                          for series_id, length in shorter[:SHORT_IDS_NAMED])
        more = (f", ... and {len(short) - SHORT_IDS_NAMED:,} more"
                if len(short) > SHORT_IDS_NAMED else "")
        raise pipeline_error(argument, f"must have at least {min_rows:,} rows in each series "
                             f"(series.lookback plus the rows its splits need); "
                             f"{len(short):,} of {len(ids):,} series are shorter: {named}"
                             f"{more}; set series.too_short = \"drop\" to leave them out",
                             str(path))
    kept = sorted(set(range(len(ids))) - set(short))
    return kept, shorter


def _on_grid(block, times, grid, empty):
    """``block``'s rows at ``times`` placed on ``grid`` (rows between them ``empty``)."""
    if grid is None:
        return block
    placed = np.full((len(grid), block.shape[1]), empty, dtype=block.dtype)
    placed[grid.get_indexer(times)] = block
    return placed


def read_panel(path, id_column, time_column, targets, covariates=(), frequency=None,
               fill="none", min_rows=None, too_short="refuse", argument="series.csv"):
    """Reads and checks a long-format file of many series: one row per (id, timestamp).

    Args:
        path: a CSV file, or a Parquet file (a name ending in .parquet or .pq).
        id_column: the column of series ids, read as strings ("007" stays "007").
        time_column: the timestamp column; rows may come in any order.
        targets: the columns to forecast.
        covariates: extra input columns; a column with any value that is not a number is
            categorical (`reader.Series.categories`).
        frequency: pandas offset alias for every series; None infers it, the same for all.
        fill: "none" (missing values and timestamps are errors), "ffill" or "interpolate",
            within each series.
        min_rows: the fewest rows a series needs (lookback plus what its splits need, from
            the caller), counted after gaps are filled; None: no minimum.
        too_short: a series under ``min_rows``: "refuse" (an error) or "drop" (left out and
            listed in `Panel.dropped`). A file whose series are all too short is an error.
        argument: what errors about the whole file name, as in `reader.read_series`.

    Returns:
        a `Panel`.
    """
    _check_options(fill, min_rows, too_short)
    targets, covariates = list(targets), list(covariates)
    parquet = str(path).lower().endswith(PARQUET_SUFFIXES)
    frame = read_frame(path, argument, dtype={id_column: str},
                        kind="Parquet" if parquet else "CSV")
    check_columns(frame, path, time_column, targets, covariates, argument, id_column)
    _check_row_count(len(frame), path, argument, None)
    # Rows of a CSV are lines from 2 (after the header); a Parquet file's are rows from 1.
    rows = _Rows(path, np.arange(len(frame)) + (1 if parquet else 2), None,
                 "row" if parquet else "line")
    ids = _series_ids(frame, rows, id_column)
    times = pd.DatetimeIndex(_to_timestamps(frame, rows, time_column))
    categorical = [name for name in covariates if _is_text(frame[name])]
    numeric = [*targets, *(name for name in covariates if name not in categorical)]
    numbers = _to_numbers(frame, rows, numeric).to_numpy(np.float64)
    texts = frame[categorical].to_numpy(object) if categorical else None
    table = _sort(path, ids, times, rows)
    if frequency is None:
        frequency = _common_frequency(table, path, argument)
    grids = [_regular_grid(*table.series_rows(index), frequency, fill)[1]
             for index in range(len(table.ids))]
    lengths = [len(grid) if grid is not None else end - start
               for grid, start, end in zip(grids, table.starts, table.ends)]
    kept, dropped = ([*range(len(table.ids))], []) if min_rows is None else _check_lengths(
        table.ids, lengths, path, argument, min_rows, too_short)
    series = []
    for index in kept:
        times_of, rows_of = table.series_rows(index)
        grid = grids[index]
        block = _on_grid(table.rows_of(index, numbers), times_of, grid, np.nan)
        if np.isnan(block).any():
            values, filled = _fill_numbers(pd.DataFrame(block, columns=numeric), rows_of, fill)
        else:
            values, filled = block.astype(np.float32), 0
        categories = None
        if categorical:
            words = _on_grid(table.rows_of(index, texts), times_of, grid, None)
            categories, text_filled = _categorical(pd.DataFrame(words, columns=categorical),
                                                   rows_of, categorical, fill)
            filled += text_filled
        series.append(Series(times_of if grid is None else grid, values, targets,
                             numeric[len(targets):], frequency, filled, categorical,
                             categories))
    return Panel([table.ids[index] for index in kept], series, frequency, dropped)
