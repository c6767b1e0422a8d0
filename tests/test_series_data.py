"""Time-series input: CSV checks (one error naming column and row), chronological splits
(the ETT protocol on the real ETTh1 file), tf.data windows."""

import numpy as np
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.forecast.series.reader import read_series
from rnn_pipeline.tasks.forecast.series.splits import rows_needed, split_ranges
from rnn_pipeline.tasks.forecast.series.windows import make_windows, window_count


def _csv(tmp_path, lines):
    path = tmp_path / "s.csv"
    path.write_text("\n".join(["time,load,temp,note"] + lines) + "\n")
    return path


GOOD = [f"2024-01-01 {h:02d}:00,{h},{10 + h},x" for h in range(6)]


def test_reads_targets_then_covariates_and_infers_the_frequency(tmp_path):
    series = read_series(_csv(tmp_path, GOOD), "time", ["temp"], ["load"])
    assert series.frequency == "h" and series.columns == ["temp", "load"]
    np.testing.assert_array_equal(series.values[:2], [[10, 0], [11, 1]])
    assert series.values.dtype == np.float32 and series.filled == 0


@pytest.mark.parametrize("lines, kwargs, message", [
    (GOOD, {"targets": ["lod"]}, r"^series.targets must name columns of .*s.csv \('time', "
                                 r"'load', 'temp', 'note'\)\. Received: series.targets='lod'"),
    (GOOD, {"targets": ["note"]}, r"s.csv:2 column 'note' must be numeric\. Received: .*='x'"),
    (GOOD[:2] + ["2024-01-01 02:00,oops,12,x"] + GOOD[3:], {},
     r"s.csv:4 column 'load' must be numeric\. Received: .*='oops'"),
    (GOOD[:3] + ["2024-01-01 03:00,,13,x"] + GOOD[4:], {},
     r"s.csv:5 column 'load' has a missing value; set series.fill to 'ffill' or 'interpolate' "
     r"to fill 1 missing cells"),
    (GOOD[:3] + [GOOD[2]] + GOOD[3:], {},
     r"s.csv:5 timestamps must be unique and increasing \(duplicate after 2024-01-01 02:00:00\)"),
    (GOOD[:2] + [GOOD[3], GOOD[2]] + GOOD[4:], {},
     r"s.csv:5 timestamps must be unique and increasing \(unsorted after"),
    (GOOD[:3] + GOOD[4:], {"frequency": "h"},
     r"s.csv:5 the series must be regular at frequency 'h' \(expected 2024-01-01 03:00:00 "
     r"after 2024-01-01 02:00:00: a gap"),
    (GOOD[:2] + ["2024-01-01 02:00,inf,12,x"] + GOOD[3:], {},
     r"s.csv:4 column 'load' must hold finite numbers within float32's range\. "
     r"Received: .*='inf'"),
    (GOOD[:2] + ["2024-01-01 02:00,2,-1e39,x"] + GOOD[3:], {"targets": ["temp"]},
     r"s.csv:4 column 'temp' must hold finite numbers within float32's range\. "
     r"Received: .*='-1e\+39'"),
    (GOOD[:2] + ["yesterday,2,12,x"] + GOOD[3:], {},
     r"s.csv:4 column 'time' must hold timestamps\. Received: .*='yesterday'"),
])
def test_bad_input_names_the_column_and_row(tmp_path, lines, kwargs, message):
    options = {"targets": ["load"], **kwargs}
    with pytest.raises(PipelineError, match=message):
        read_series(_csv(tmp_path, lines), "time", **options)


@pytest.mark.parametrize("fill, expected", [("ffill", 2.0), ("interpolate", 3.0)])
def test_fill_policies_fill_and_count(tmp_path, fill, expected):
    lines = GOOD[:3] + ["2024-01-01 03:00,,13,x"] + GOOD[4:]
    series = read_series(_csv(tmp_path, lines), "time", ["load"], fill=fill)
    assert series.filled == 1 and series.values[3, 0] == expected


def test_a_fill_policy_fills_gaps_on_the_real_melbourne_series(dataset):
    path = dataset("melbourne_temperatures")["data"]
    with pytest.raises(PipelineError, match=r"daily-min-temperatures.csv:1462 the series must "
                                            r"be regular at frequency 'D' \(expected "
                                            r"1984-12-31 00:00:00 after 1984-12-30"):
        read_series(path, "Date", ["Temp"], frequency="D")
    series = read_series(path, "Date", ["Temp"], frequency="D", fill="interpolate")
    assert len(series.values) == 3652 and series.filled == 2  # 1984-12-31 and 1988-12-31


def test_ett_protocol_on_the_real_etth1(dataset):
    series = read_series(dataset("etth1")["data"], "date",
                         ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"])
    assert series.frequency == "h" and series.values.shape == (17420, 7)
    ranges = split_ranges(len(series.values), series.frequency, 336, 96, split="ett")
    assert (ranges.train, ranges.valid, ranges.test) == ((0, 8640), (8640 - 336, 11520),
                                                         (11520 - 336, 14400))
    assert str(series.times[ranges.test[0] + 336]) == "2017-10-24 00:00:00"  # first test target
    minutes = split_ranges(69680, "15min", 96, 96, split="ett")
    assert minutes.test == (46080 - 96, 57600)


def test_fraction_split_and_too_short_series():
    ranges = split_ranges(100, "D", 10, 5, valid_fraction=0.1, test_fraction=0.2)
    assert (ranges.train, ranges.valid, ranges.test) == ((0, 70), (60, 80), (70, 100))
    with pytest.raises(PipelineError, match=r"^series must have at least lookback \+ horizon "
                                            r"= 15 rows\. Received: series=12"):
        split_ranges(12, "D", 10, 5)
    with pytest.raises(PipelineError, match=r"^series is too short for a valid window"):
        split_ranges(40, "D", 10, 5)



@pytest.mark.parametrize("lookback, horizon, valid, test", [
    (24, 12, 0.1, 0.2), (1, 1, 0.1, 0.2), (96, 24, 0.05, 0.01), (3, 7, 0.33, 0.4)])
def test_rows_needed_is_the_fewest_rows_every_split_accepts(lookback, horizon, valid, test):
    rows, reason = rows_needed("D", lookback, horizon, "fractions", valid, test)
    split_ranges(rows, "D", lookback, horizon, "fractions", valid, test)
    with pytest.raises(PipelineError, match="too short|at least"):
        split_ranges(rows - 1, "D", lookback, horizon, "fractions", valid, test)
    assert reason.startswith(f"series.lookback = {lookback} and series.horizon = {horizon}: "
                             f"a window of {lookback + horizon} rows in each")
    assert rows_needed("h", lookback, horizon, "ett")[0] == 20 * 30 * 24
    assert rows_needed(None, lookback, horizon, "ett")[0] == lookback + horizon

def test_windows_hold_history_and_the_next_target_rows():
    values = np.arange(20, dtype=np.float32).reshape(10, 2)  # column 0: target
    assert window_count(10, 4, 2, stride=2) == 3
    (history, future), = make_windows(values, 1, 4, 2, stride=2, batch_size=8).as_numpy_iterator()
    assert history.shape == (3, 4, 2) and future.shape == (3, 2, 1)
    np.testing.assert_array_equal(history[1, :, 0], [4, 6, 8, 10])
    np.testing.assert_array_equal(future[1, :, 0], [12, 14])
    np.testing.assert_array_equal(future[2, :, 0], [16, 18])
