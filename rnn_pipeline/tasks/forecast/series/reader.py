"""A CSV -> checked, regular, numeric series (pandas), or one clear error that names the
column and the row."""

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from rnn_pipeline import choices
from rnn_pipeline.errors import pipeline_error

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


def _file_row(position):
    """Line number in the file of data row ``position`` (1 header line, 1-based)."""
    return position + 2


def _check_columns(frame, path, time_column, targets, covariates, argument):
    """Every named column is in ``frame``. A config key ``argument`` ("series.csv") names
    the key of a missing column; an option ("--input") lists the columns the file lacks."""
    available = list(frame.columns)
    lacking = [name for name in [time_column, *targets, *covariates] if name not in available]
    if lacking and not argument.startswith("series."):
        raise pipeline_error(argument, f"must have the run's columns "
                             f"{', '.join(map(repr, [time_column, *targets, *covariates]))}; "
                             f"it lacks {', '.join(map(repr, lacking))} (it has "
                             f"{', '.join(map(repr, available))})", str(path))
    for key, names in (("series.time_column", [time_column]), ("series.targets", targets),
                       ("series.covariates", covariates)):
        for name in names:
            if name not in available:
                raise pipeline_error(key, f"must name columns of {path} "
                                     f"({', '.join(map(repr, available))})", name)
    if not targets:
        raise pipeline_error("series.targets", "must name at least one column", targets)
    overlap = set(targets) & set(covariates)
    if overlap:
        raise pipeline_error("series.covariates", "must not repeat a target", sorted(overlap))


def _read_frame(path, argument):
    """The CSV as a pandas frame, or one error naming ``argument`` and what is wrong."""
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise pipeline_error(argument, "must be an existing CSV file", str(path)) from None
    except IsADirectoryError:
        raise pipeline_error(argument, "must be a CSV file, not a directory", str(path)) from None
    except pd.errors.EmptyDataError:
        raise pipeline_error(argument, "must be a CSV file with a header line and data rows; "
                             "it is empty", str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise pipeline_error(argument, f"must be a readable CSV ({exc})", str(path)) from None
    except OSError as exc:  # permissions, a special file
        raise pipeline_error(argument, f"must be a readable CSV file ({exc.strerror})",
                             str(path)) from None


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


def _infer_frequency(times, path):
    """The frequency of ``times`` (3 rows at least); where there is none, one error at the
    first row that breaks the step of the rows before it."""
    frequency = pd.infer_freq(times)
    if frequency is not None:
        return frequency
    # times[:regular] has a frequency (or is under 3 rows), times[:irregular] has none.
    regular, irregular = 2, len(times)
    while irregular - regular > 1:
        middle = (regular + irregular) // 2
        if pd.infer_freq(times[:middle]) is not None:
            regular = middle
        else:
            irregular = middle
    if regular < 3:
        raise pipeline_error(f"{path}:{_file_row(2)}", f"must step regularly for "
                             f"series.frequency to be inferred; the first rows step "
                             f"{times[0]}, {times[1]}, {times[2]}; set series.frequency "
                             f"(e.g. 'h', 'D', 'MS')", str(times[2]))
    step = pd.infer_freq(times[:regular])
    raise pipeline_error(f"{path}:{_file_row(regular)}", f"breaks the step of the rows before "
                         f"it ({step!r}, lines {_file_row(0)}-{_file_row(regular - 1)}): "
                         f"{times[regular - 1]} is followed by {times[regular]}, a gap or an "
                         f"irregular step, so series.frequency cannot be inferred; add the "
                         f"missing rows, or set series.frequency = {step!r} with series.fill "
                         f"= 'ffill' or 'interpolate'", str(times[regular]))


def _parse_times(frame, path, time_column):
    times = pd.to_datetime(frame[time_column], errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        raise pipeline_error(f"{path}:{_file_row(bad[0])}", f"column {time_column!r} must "
                             f"hold timestamps", frame[time_column].iloc[bad[0]])
    steps = times.diff().to_numpy()[1:]
    for kind, mask in (("duplicate", steps == np.timedelta64(0)),
                       ("unsorted", steps < np.timedelta64(0))):
        hits = np.flatnonzero(mask)
        if hits.size:
            row = hits[0] + 1
            raise pipeline_error(f"{path}:{_file_row(row)}", f"timestamps must be unique and "
                                 f"increasing ({kind} after {times.iloc[row - 1]})",
                                 str(times.iloc[row]))
    return pd.DatetimeIndex(times)


def _count_missing(table, path, fill):
    """The missing cells of ``table``; with ``fill = "none"`` the first is an error."""
    missing = int(table.isna().sum().sum())
    if missing and fill == "none":
        column = table.columns[table.isna().any().to_numpy()][0]
        row = int(np.flatnonzero(table[column].isna().to_numpy())[0])
        raise pipeline_error(f"{path}:{_file_row(row)}", f"column {column!r} has a missing "
                             f"value; set series.fill to 'ffill' or 'interpolate' to fill "
                             f"{missing} missing cells", "")
    return missing


def _numeric(frame, path, columns, fill):
    """Columns as float; non-numeric cells are errors, missing ones follow ``fill``."""
    if fill not in FILL_POLICIES:
        raise pipeline_error("series.fill", f"must be one of: {', '.join(map(repr, FILL_POLICIES))}",
                             fill)
    numeric = {}
    for name in columns:
        raw = frame[name]
        values = pd.to_numeric(raw, errors="coerce")
        wrong = np.flatnonzero((values.isna() & raw.notna()).to_numpy())
        if wrong.size:
            raise pipeline_error(f"{path}:{_file_row(wrong[0])}", f"column {name!r} must be "
                                 f"numeric", raw.iloc[wrong[0]])
        # inf, or beyond float32's range (the model's dtype)
        huge = np.flatnonzero(np.abs(values.to_numpy(np.float64)) > np.finfo(np.float32).max)
        if huge.size:
            raise pipeline_error(f"{path}:{_file_row(huge[0])}", f"column {name!r} must hold "
                                 f"finite numbers within float32's range",
                                 str(raw.iloc[huge[0]]))
        numeric[name] = values.astype("float64")
    table = pd.DataFrame(numeric)
    missing = _count_missing(table, path, fill)
    if missing:
        table = table.ffill() if fill == "ffill" else table.interpolate(limit_direction="both")
        table = table.bfill()  # leading gaps take the first value
    return table.to_numpy(np.float32), missing


def _is_text(raw):
    """True when a column holds a value that is not a number (a categorical covariate)."""
    values = pd.to_numeric(raw, errors="coerce")
    return bool((values.isna() & raw.notna()).any())


def _categorical(frame, path, columns, fill):
    """String columns as (rows, columns) str; missing cells follow ``fill`` (carried
    forward, then back for leading gaps)."""
    table = frame[columns].astype("object")
    missing = _count_missing(table, path, fill)
    table = table.ffill().bfill()
    return table.astype(str).to_numpy(), missing


def _regular_grid(times, path, frequency, fill):
    """Checks that ``times`` is a regular grid at ``frequency``. With a fill policy, the
    missing timestamps are added (as missing rows); without one, a gap is an error.

    Returns:
        (frequency, grid or None when ``times`` is already regular).
    """
    if frequency is None:
        frequency = _infer_frequency(times, path)
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
    raise pipeline_error(f"{path}:{_file_row(row)}", f"the series must be regular at "
                         f"frequency {frequency!r} (expected {expected[row]} after "
                         f"{times[row - 1]}: a gap or an irregular step; series.fill "
                         f"'ffill' or 'interpolate' fills gaps)", str(times[row]))


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
            "series.dataset"), or an option such as "--input" (see `_check_columns`).
        need: (rows, what needs them) of the caller, e.g. `splits.rows_needed`; default
            one row.
    """
    frame = _read_frame(path, argument)
    targets, covariates = list(targets), list(covariates)
    _check_columns(frame, path, time_column, targets, covariates, argument)
    # Before the timestamps: a frequency is inferred from 3 rows at least.
    _check_row_count(len(frame), path, argument, need, 1 if frequency else 3)
    times = _parse_times(frame, path, time_column)
    frequency, grid = _regular_grid(times, path, frequency, fill)
    if grid is not None:  # missing timestamps become missing rows, filled below
        frame = frame.set_index(times).reindex(grid).reset_index(drop=True)
        times = grid
    _check_row_count(len(times), path, argument, need)
    categorical = [name for name in covariates if _is_text(frame[name])]
    numeric = [name for name in covariates if name not in categorical]
    values, filled = _numeric(frame, path, [*targets, *numeric], fill)
    categories, text_filled = (_categorical(frame, path, categorical, fill) if categorical
                               else (None, 0))
    return Series(times, values, targets, numeric, frequency, filled + text_filled,
                  categorical, categories)
