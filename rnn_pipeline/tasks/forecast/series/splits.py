"""Chronological splits. Valid and test windows start ``lookback`` rows before their first
target, so that every valid/test row is forecast (the ETT convention)."""

from dataclasses import dataclass

import pandas as pd

from rnn_pipeline import choices
from rnn_pipeline.errors import pipeline_error

SPLITS = choices.SERIES_SPLITS.declared


@dataclass
class RowRanges:
    """[start, end) rows read by each split's windows."""

    train: tuple
    valid: tuple
    test: tuple

    def items(self):
        return (("train", self.train), ("valid", self.valid), ("test", self.test))


def rows_per_day(frequency):
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(frequency))
    return int(pd.Timedelta("1D") / step)


def ett_ranges(num_rows, frequency, lookback):
    """12/4/4 months of 30 days (Informer's ``Dataset_ETT_hour``/``_minute``); the rest is
    unused."""
    try:
        month = 30 * rows_per_day(frequency)
    except (TypeError, ValueError):
        raise pipeline_error("series.split", "'ett' needs a fixed frequency such as 'h' or "
                             "'15min'", frequency) from None
    if num_rows < 20 * month:
        raise pipeline_error("series.split", f"'ett' needs 20 months of 30 days "
                             f"({20 * month} rows at {frequency!r})", num_rows)
    train_end, valid_end, test_end = 12 * month, 16 * month, 20 * month
    return RowRanges((0, train_end), (train_end - lookback, valid_end),
                     (valid_end - lookback, test_end))


def fraction_ranges(num_rows, lookback, valid_fraction, test_fraction):
    """The last ``test_fraction`` of rows is test, the ``valid_fraction`` before it valid."""
    for key, value in (("series.valid_fraction", valid_fraction),
                       ("series.test_fraction", test_fraction)):
        if not 0.0 < value < 1.0:
            raise pipeline_error(key, "must be in (0, 1)", value)
    num_test = round(num_rows * test_fraction)
    num_valid = round(num_rows * valid_fraction)
    train_end = num_rows - num_test - num_valid
    return RowRanges((0, train_end), (train_end - lookback, train_end + num_valid),
                     (num_rows - num_test - lookback, num_rows))


def per_series_rows(lookback, horizon, valid_windows=1, test_windows=1):
    """The rows that a series needs under "per_series": a training window of lookback +
    horizon rows, then its valid and test rows (`per_series_ranges`)."""
    return lookback + horizon + (horizon + valid_windows - 1) + (horizon + test_windows - 1)


def per_series_ranges(num_rows, lookback, horizon, valid_windows=1, test_windows=1):
    """The M4 protocol for one series: its last ``horizon + test_windows - 1`` rows are
    forecast from ``test_windows`` origins (test), the ``horizon + valid_windows - 1`` rows
    before them from ``valid_windows`` origins (valid); training windows forecast rows
    before those. The caller checks the length (`per_series_rows`)."""
    test_start = num_rows - (horizon + test_windows - 1)
    valid_start = test_start - (horizon + valid_windows - 1)
    return RowRanges((0, valid_start), (valid_start - lookback, test_start),
                     (test_start - lookback, num_rows))


def split_ranges(num_rows, frequency, lookback, horizon, split="fractions", valid_fraction=0.1,
                 test_fraction=0.2):
    """Row ranges of the three splits; each must hold at least one window."""
    if split not in SPLITS:
        raise pipeline_error("series.split", f"must be one of: {', '.join(map(repr, SPLITS))}",
                             split)
    for key, value in (("series.lookback", lookback), ("series.horizon", horizon)):
        if value < 1:
            raise pipeline_error(key, "must be at least 1", value)
    if num_rows < lookback + horizon:
        raise pipeline_error("series", f"must have at least lookback + horizon = "
                             f"{lookback + horizon} rows", num_rows)
    ranges = (ett_ranges(num_rows, frequency, lookback) if split == "ett"
              else fraction_ranges(num_rows, lookback, valid_fraction, test_fraction))
    short = _short_split(ranges, lookback + horizon)
    if short is not None:
        name, (start, end) = short
        raise pipeline_error("series", f"is too short for a {name} window of lookback + "
                             f"horizon = {lookback + horizon} rows (the {name} split "
                             f"has rows [{start}, {end}))", num_rows)
    return ranges


def _short_split(ranges, window):
    """The first (name, (start, end)) of ``ranges`` that cannot hold a ``window`` of rows."""
    for name, (start, end) in ranges.items():
        if start < 0 or end - start < window:
            return name, (start, end)
    return None


def rows_needed(frequency, lookback, horizon, split="fractions", valid_fraction=0.1,
                test_fraction=0.2):
    """The fewest rows on which every split holds a window of lookback + horizon rows, and
    what needs them: a CSV with fewer is refused while it is read, before its timestamps.

    Args:
        frequency: pandas offset alias, or None when it is yet to be inferred.
        lookback, horizon, split, valid_fraction, test_fraction: the ``[series]`` keys.

    Returns:
        (rows, reason), e.g. (115, "series.lookback = 24 and series.horizon = 12: ...").
    """
    window = lookback + horizon
    keys = f"series.lookback = {lookback} and series.horizon = {horizon}"
    if split == "ett":
        try:
            return 20 * 30 * rows_per_day(frequency), f"the 'ett' split (20 months of 30 days " \
                                                      f"at {frequency!r})"
        except (TypeError, ValueError):  # no fixed frequency yet: `ett_ranges` says so later
            return window, keys
    if split not in SPLITS or not (0 < valid_fraction < 1 and 0 < test_fraction < 1) \
            or valid_fraction + test_fraction >= 1:
        return window, keys  # `split_ranges` names the key
    # Each split needs round(rows * share) >= horizon, train rows >= window: start just
    # below the real-valued bound and step up (rounding decides the last row or two).
    start = max(window, int(max((horizon - 0.5) / valid_fraction,
                                (horizon - 0.5) / test_fraction,
                                (window - 1) / (1 - valid_fraction - test_fraction))) - 2)
    rows = next((n for n in range(start, 2 * start + 10) if _short_split(
        fraction_ranges(n, lookback, valid_fraction, test_fraction), window) is None), window)
    return rows, (f"{keys}: a window of {window} rows in each of the train, valid and test "
                  f"splits (series.valid_fraction = {valid_fraction:g}, "
                  f"series.test_fraction = {test_fraction:g})")
