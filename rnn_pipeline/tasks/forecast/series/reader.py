"""A CSV -> checked, regular, numeric series (pandas), or one clear error that names the
column and the row.

The checks are helpers on a frame and the `_Rows` that say where its rows stand in the
file, so that a file of many series (`panel.read_panel`) runs the same checks per series.
"""

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from rnn_pipeline import choices
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.forecast.series.frame import check_columns, read_frame

FILL_POLICIES = choices.FILL_POLICIES.declared
# Season length in rows by pandas frequency (a day of hours, a day of quarter hours, a week
# of days, a year of months): seasonal naive and MASE when the pipeline sets no season.
SEASONS = {"h": 24, "15min": 96, "D": 7, "MS": 12}


def default_season(frequency):
    """The season length of a frequency (`SEASONS`), 1 (no season) when unknown."""
    return SEASONS.get(frequency, 1)


@dataclass
class Series:
    """A regular multivariate series.

    Args:
        times: the timestamps, one per row, at ``frequency``.
        values: float32 (rows, columns): targets first, then the numeric covariates.
        targets: names of the target columns.
        covariates: names of the numeric covariate columns (inputs only).
        frequency: pandas offset alias, e.g. "h", "15min", "MS".
        filled: how many missing cells the fill policy filled.
        categorical: names of the covariate columns of strings.
        categories: str (rows, len(categorical)), or None without such columns.
    """

    times: pd.DatetimeIndex
    values: np.ndarray
    targets: list
    covariates: list
    frequency: str
    filled: int = 0
    categorical: list = field(default_factory=list)
    categories: Optional[np.ndarray] = None

    @property
    def columns(self):
        return [*self.targets, *self.covariates]


@dataclass(frozen=True)
class _Rows:
    """Where the rows of a table stand in its file, for the errors that name a row.

    Args:
        path: the file.
        lines: the file line of each row; None: row i is line i + 2 (one header line).
        series_id: the series' id in a file of many (`panel.read_panel`), named by each
            error; None in a file of one series.
        noun: "line" (a CSV) or "row" (a Parquet file, which has no lines).
    """

    path: object
    lines: Optional[np.ndarray] = None
    series_id: Optional[str] = None
    noun: str = "line"

    def line(self, position):
        """The line (or row) of the file that holds row ``position``."""
        return position + 2 if self.lines is None else int(self.lines[position])

    def span(self, first, last):
        """"lines 2-9": where rows ``first`` to ``last`` stand in the file."""
        return f"{self.noun}s {self.line(first)}-{self.line(last)}"

    def error(self, position, rule, received):
        """One error at row ``position`` ("s.csv:5 <rule>"), naming the series if any."""
        where = (f"{self.path}:{self.line(position)}" if self.noun == "line"
                 else f"{self.path} {self.noun} {self.line(position)}")
        about = "" if self.series_id is None else f"(series {self.series_id!r}) "
        return pipeline_error(where, about + rule, received)


def _check_row_count(count, path, argument, need, floor=None):
    """At least ``need`` rows, or with ``floor`` (the raw rows, before gaps are filled) at
    least ``floor``: otherwise one error saying how many there are and what needs how many."""
    rows, reason = need or (1, "a series")
    if count >= (rows if floor is None else floor):
        return
    if floor is not None and floor > rows:
        rows, reason = floor, "series.frequency to be inferred (it is not set)"
    raise pipeline_error(argument, f"must have at least {rows:,} data rows for {reason}; "
                         f"it has {count:,}", str(path))


def _inferred_alias(times):
    """`pandas.infer_freq` as an alias ("h"), also where pandas returns an offset."""
    frequency = pd.infer_freq(times)
    return getattr(frequency, "freqstr", frequency)


def _infer_frequency(times, rows):
    """The frequency of ``times`` (3 rows at least); where there is none, one error at the
    first row that breaks the step of the rows before it.

    Args:
        rows: where the rows stand in the file (`_Rows`).
    """
    frequency = _inferred_alias(times)
    if frequency is not None:
        return frequency
    # times[:regular] has a frequency (or is under 3 rows), times[:irregular] has none.
    regular, irregular = 2, len(times)
    while irregular - regular > 1:
        middle = (regular + irregular) // 2
        if _inferred_alias(times[:middle]) is not None:
            regular = middle
        else:
            irregular = middle
    if regular < 3:
        raise rows.error(2, f"must step regularly for series.frequency to be inferred; the "
                         f"first rows step {times[0]}, {times[1]}, {times[2]}; set "
                         f"series.frequency (e.g. 'h', 'D', 'MS')", str(times[2]))
    step = _inferred_alias(times[:regular])
    raise rows.error(regular, f"breaks the step of the rows before it ({step!r}, "
                     f"{rows.span(0, regular - 1)}): {times[regular - 1]} is followed by "
                     f"{times[regular]}, a gap or an irregular step, so series.frequency "
                     f"cannot be inferred; add the missing rows, or set series.frequency = "
                     f"{step!r} with series.fill = 'ffill' or 'interpolate'",
                     str(times[regular]))


def _to_timestamps(frame, rows, time_column):
    """The time column as timestamps (a pandas Series); a cell that is none is an error."""
    times = pd.to_datetime(frame[time_column], errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        raise rows.error(bad[0], f"column {time_column!r} must hold timestamps",
                         frame[time_column].iloc[bad[0]])
    return times


def _parse_times(frame, rows, time_column):
    """The timestamps, unique and increasing, or one error at the first row that is not."""
    times = _to_timestamps(frame, rows, time_column)
    steps = times.diff().to_numpy()[1:]
    for kind, mask in (("duplicate", steps == np.timedelta64(0)),
                       ("unsorted", steps < np.timedelta64(0))):
        hits = np.flatnonzero(mask)
        if hits.size:
            row = hits[0] + 1
            raise rows.error(row, f"timestamps must be unique and increasing ({kind} after "
                             f"{times.iloc[row - 1]})", str(times.iloc[row]))
    return pd.DatetimeIndex(times)


def _count_missing(table, rows, fill):
    """The missing cells of ``table``; with ``fill = "none"`` the first is an error."""
    missing = int(table.isna().sum().sum())
    if missing and fill == "none":
        column = table.columns[table.isna().any().to_numpy()][0]
        row = int(np.flatnonzero(table[column].isna().to_numpy())[0])
        raise rows.error(row, f"column {column!r} has a missing value; set series.fill to "
                         f"'ffill' or 'interpolate' to fill {missing} missing cells", "")
    return missing


def _check_fill(fill):
    if fill not in FILL_POLICIES:
        raise pipeline_error("series.fill", f"must be one of: "
                             f"{', '.join(map(repr, FILL_POLICIES))}", fill)


def _to_numbers(frame, rows, columns):
    """Columns as a float64 frame; a cell that is not a number, or beyond float32's range,
    is an error (missing cells stay missing)."""
    numeric = {}
    for name in columns:
        raw = frame[name]
        values = pd.to_numeric(raw, errors="coerce")
        wrong = np.flatnonzero((values.isna() & raw.notna()).to_numpy())
        if wrong.size:
            raise rows.error(wrong[0], f"column {name!r} must be numeric", raw.iloc[wrong[0]])
        # inf, or beyond float32's range (the model's dtype)
        huge = np.flatnonzero(np.abs(values.to_numpy(np.float64)) > np.finfo(np.float32).max)
        if huge.size:
            raise rows.error(huge[0], f"column {name!r} must hold finite numbers within "
                             f"float32's range", str(raw.iloc[huge[0]]))
        numeric[name] = values.astype("float64")
    return pd.DataFrame(numeric, index=frame.index)


def _fill_numbers(table, rows, fill):
    """Missing cells of a float frame filled by ``fill`` (an error with "none").

    Returns:
        (float32 (rows, columns), how many cells were filled).
    """
    missing = _count_missing(table, rows, fill)
    if missing:
        table = table.ffill() if fill == "ffill" else table.interpolate(limit_direction="both")
        table = table.bfill()  # leading gaps take the first value
    return table.to_numpy(np.float32), missing


def _numeric(frame, rows, columns, fill):
    """Columns as float; non-numeric cells are errors, missing ones follow ``fill``."""
    _check_fill(fill)
    return _fill_numbers(_to_numbers(frame, rows, columns), rows, fill)


def _is_text(raw):
    """True when a column holds a value that is not a number (a categorical covariate)."""
    values = pd.to_numeric(raw, errors="coerce")
    return bool((values.isna() & raw.notna()).any())


def _categorical(frame, rows, columns, fill):
    """String columns as (rows, columns) str; missing cells follow ``fill`` (carried
    forward, then back for leading gaps)."""
    table = frame[columns].astype("object")
    missing = _count_missing(table, rows, fill)
    table = table.ffill().bfill()
    return table.astype(str).to_numpy(), missing


def _regular_grid(times, rows, frequency, fill):
    """Checks that ``times`` is a regular grid at ``frequency``. With a fill policy, the
    missing timestamps are added (as missing rows); without one, a gap is an error.

    Returns:
        (frequency, grid or None when ``times`` is already regular).
    """
    if frequency is None:
        frequency = _infer_frequency(times, rows)
    try:
        expected = pd.date_range(times[0], periods=len(times), freq=frequency)
    except ValueError:
        raise pipeline_error("series.frequency", "must be a pandas offset alias such as 'h', "
                             "'15min', 'D' or 'MS'", frequency) from None
    if len(expected) == len(times) and (expected == times).all():
        return frequency, None
    grid = pd.date_range(times[0], times[-1], freq=frequency)
    on_grid = times.isin(grid)
    if fill != "none" and on_grid.all():
        return frequency, grid
    row = int(np.flatnonzero(~on_grid)[0]) if not on_grid.all() else \
        int(np.flatnonzero(expected[:len(times)] != times)[0])
    raise rows.error(row, f"the series must be regular at frequency {frequency!r} (expected "
                     f"{expected[row]} after {times[row - 1]}: a gap or an irregular step; "
                     f"series.fill 'ffill' or 'interpolate' fills gaps)", str(times[row]))


def read_series(path, time_column, targets, covariates=(), frequency=None, fill="none",
                argument="series.csv", need=None):
    """Reads and checks a CSV series.

    Args:
        path: the CSV file.
        time_column: the timestamp column.
        targets: the columns to forecast.
        covariates: extra input columns; a column with any value that is not a number is
            categorical (`Series.categories`).
        frequency: pandas offset alias; None infers it.
        fill: "none" (missing values are errors), "ffill" or "interpolate".
        argument: what errors about the whole file name: the config key "series.csv" (or
            "series.dataset"), or an option such as "--input" (see `frame.check_columns`).
        need: (rows, what needs them) of the caller, e.g. `splits.rows_needed`; default
            one row.
    """
    frame = read_frame(path, argument)
    rows = _Rows(path)
    targets, covariates = list(targets), list(covariates)
    check_columns(frame, path, time_column, targets, covariates, argument)
    # Before the timestamps: a frequency is inferred from 3 rows at least.
    _check_row_count(len(frame), path, argument, need, 1 if frequency else 3)
    times = _parse_times(frame, rows, time_column)
    frequency, grid = _regular_grid(times, rows, frequency, fill)
    if grid is not None:  # missing timestamps become missing rows, filled below
        frame = frame.set_index(times).reindex(grid).reset_index(drop=True)
        times = grid
    _check_row_count(len(times), path, argument, need)
    categorical = [name for name in covariates if _is_text(frame[name])]
    numeric = [name for name in covariates if name not in categorical]
    values, filled = _numeric(frame, rows, [*targets, *numeric], fill)
    categories, text_filled = (_categorical(frame, rows, categorical, fill) if categorical
                               else (None, 0))
    return Series(times, values, targets, numeric, frequency, filled + text_filled,
                  categorical, categories)
