"""Long-format files of many series (`read_panel`): ids, order, Parquet, and one exact
one-line error per bad input."""

import sys

import numpy as np
import pandas as pd
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.forecast.series.panel import read_panel

HEADER = "unique_id,ds,y,temp"


def _hourly(series_id, hours, start=0, value=0):
    """Rows of one hourly series: y counts up from ``value``, temp is y + 100."""
    return [f"{series_id},2000-01-01 {start + hour:02d}:00,{value + hour},{value + hour + 100}"
            for hour in range(hours)]


def _csv(tmp_path, lines, name="long.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def _error(path, **options):
    """The message of the error `read_panel` raises on ``path``; it is one line."""
    options = {"id_column": "unique_id", "time_column": "ds", "targets": ["y"], **options}
    with pytest.raises(PipelineError) as caught:
        read_panel(path, **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_series_of_different_lengths_in_shuffled_rows(tmp_path):
    rows = _hourly("B", 4, value=10) + _hourly("A", 6)
    shuffled = [rows[index] for index in (5, 0, 9, 3, 1, 7, 2, 8, 4, 6)]
    panel = read_panel(_csv(tmp_path, shuffled), "unique_id", "ds", ["y"], ["temp"])
    # "A" first: its row 2000-01-01 01:00 is the file's first line.
    assert panel.ids == ["A", "B"] and len(panel) == 2 and panel.frequency == "h"
    first, second = panel.series
    assert first.times.equals(pd.date_range("2000-01-01", periods=6, freq="h"))
    assert second.times.equals(pd.date_range("2000-01-01", periods=4, freq="h"))
    np.testing.assert_array_equal(first.values, [[hour, hour + 100] for hour in range(6)])
    np.testing.assert_array_equal(second.values[:, 0], [10, 11, 12, 13])
    assert first.columns == ["y", "temp"] and first.values.dtype == np.float32
    assert panel.dropped == [] and first.frequency == second.frequency == "h"


def test_numeric_looking_ids_stay_strings(tmp_path):
    path = _csv(tmp_path, _hourly("007", 3) + _hourly("7", 3) + _hourly("1", 3))
    panel = read_panel(path, "unique_id", "ds", ["y"])
    assert panel.ids == ["007", "7", "1"]


def test_a_fill_policy_fills_gaps_inside_each_series(tmp_path):
    a_rows = _hourly("A", 5)
    lines = [*a_rows[:2], *a_rows[3:], *_hourly("B", 3, value=50)]  # A lacks 02:00
    panel = read_panel(_csv(tmp_path, lines), "unique_id", "ds", ["y"], frequency="h",
                       fill="interpolate")
    np.testing.assert_array_equal(panel.series[0].values[:, 0], [0, 1, 2, 3, 4])
    assert panel.series[0].filled == 1 and panel.series[1].filled == 0


def test_a_categorical_covariate_per_series(tmp_path):
    lines = ["A,2000-01-01 00:00,1,low", "B,2000-01-01 00:00,5,high", "A,2000-01-01 01:00,2,",
             "B,2000-01-01 01:00,6,low", "A,2000-01-01 02:00,3,high"]
    panel = read_panel(_csv(tmp_path, lines), "unique_id", "ds", ["y"], ["temp"],
                       frequency="h", fill="ffill")
    first, second = panel.series
    assert first.categorical == ["temp"] and first.covariates == []
    assert first.categories[:, 0].tolist() == ["low", "low", "high"] and first.filled == 1
    assert second.categories[:, 0].tolist() == ["high", "low"]


def test_parquet_round_trip(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"unique_id": ["007", "B", "007", "B", "007"],
                          "ds": pd.to_datetime(["2000-01-01 00:00", "2000-01-01 00:00",
                                                "2000-01-01 01:00", "2000-01-01 01:00",
                                                "2000-01-01 02:00"]),
                          "y": [1.0, 5.0, 2.0, 6.0, 3.0]})
    path = tmp_path / "long.parquet"
    frame.to_parquet(path)
    panel = read_panel(path, "unique_id", "ds", ["y"])
    assert panel.ids == ["007", "B"] and panel.frequency == "h"
    np.testing.assert_array_equal(panel.series[0].values[:, 0], [1, 2, 3])
    frame.iloc[[0, 2, 4, 1, 3, 4]].to_parquet(path)  # row 6 repeats row 3
    assert _error(path) == (f"{path} row 6 (series '007') repeats the timestamp 2000-01-01 "
                            f"02:00:00 (rows 3, 6); a series has one row per timestamp. "
                            f"Received: {path} row 6='2000-01-01 02:00:00'")


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    for engine in ("pyarrow", "fastparquet"):
        monkeypatch.setitem(sys.modules, engine, None)  # import raises ImportError
    path = tmp_path / "long.pq"
    path.write_bytes(b"PAR1")
    assert _error(path) == (f"series.csv is a Parquet file, which needs pyarrow (or "
                            f"fastparquet) to be read, and neither is installed: pip install "
                            f"pyarrow. Received: series.csv='{path}'")


def test_a_missing_id_column_names_the_key_and_the_columns(tmp_path):
    path = _csv(tmp_path, _hourly("A", 3))
    assert _error(path, id_column="series") == (
        f"series.id_column must name columns of {path} ('unique_id', 'ds', 'y', 'temp'). "
        f"Received: series.id_column='series'")


def test_a_row_without_an_id_names_its_line(tmp_path):
    path = _csv(tmp_path, [*_hourly("A", 3), ",2000-01-01 03:00,3,103"])
    assert _error(path) == (f"{path}:5 column 'unique_id' (series.id_column) must name the "
                            f"series of every row; this row has no id. Received: {path}:5=''")


def test_a_repeated_timestamp_names_the_first_repeat(tmp_path):
    lines = [*_hourly("A", 3), *_hourly("B", 3), "B,2000-01-01 01:00,9,9",
             "A,2000-01-01 00:00,9,9"]
    path = _csv(tmp_path, lines)
    assert _error(path) == (f"{path}:8 (series 'B') repeats the timestamp 2000-01-01 01:00:00 "
                            f"(lines 6, 8); a series has one row per timestamp. "
                            f"Received: {path}:8='2000-01-01 01:00:00'")


def test_an_irregular_series_names_its_id_and_line(tmp_path):
    b_rows = _hourly("B", 8)
    lines = [*_hourly("A", 8), *b_rows[:5], *b_rows[6:]]  # B lacks 05:00
    path = _csv(tmp_path, lines)
    assert _error(path) == (
        f"{path}:15 (series 'B') breaks the step of the rows before it ('h', lines 10-14): "
        f"2000-01-01 04:00:00 is followed by 2000-01-01 06:00:00, a gap or an irregular step, "
        f"so series.frequency cannot be inferred; add the missing rows, or set "
        f"series.frequency = 'h' with series.fill = 'ffill' or 'interpolate'. "
        f"Received: {path}:15='2000-01-01 06:00:00'")
    assert _error(path, frequency="h") == (
        f"{path}:15 (series 'B') the series must be regular at frequency 'h' (expected "
        f"2000-01-01 05:00:00 after 2000-01-01 04:00:00: a gap or an irregular step; "
        f"series.fill 'ffill' or 'interpolate' fills gaps). "
        f"Received: {path}:15='2000-01-01 06:00:00'")


def test_series_that_disagree_on_the_frequency(tmp_path):
    daily = [f"C,2000-01-{day:02d} 00:00,{day},0" for day in range(1, 5)]
    path = _csv(tmp_path, [*_hourly("A", 4), *_hourly("B", 2), *daily])
    assert _error(path) == (
        f"{path}:8 (series 'C') steps 'D' but series 'A' steps 'h'; the series of a file "
        f"share one frequency: leave out the series that differ, or set series.frequency. "
        f"Received: {path}:8='D'")


def test_too_short_series_are_refused_or_dropped(tmp_path):
    lines = [*_hourly("long", 6)]
    for number in range(7):
        lines += _hourly(f"s{number}", 2 + number % 3)
    path = _csv(tmp_path, lines)
    assert _error(path, min_rows=5) == (
        f"series.csv must have at least 5 rows in each series (series.lookback plus the rows "
        f"its splits need); 7 of 8 series are shorter: 's0' (2 rows), 's1' (3 rows), "
        f"'s2' (4 rows), 's3' (2 rows), 's4' (3 rows), ... and 2 more; set series.too_short "
        f"= \"drop\" to leave them out. Received: series.csv='{path}'")
    panel = read_panel(path, "unique_id", "ds", ["y"], min_rows=4, too_short="drop")
    assert panel.ids == ["long", "s2", "s5"] and len(panel) == 3
    assert panel.dropped == [("s0", 2), ("s1", 3), ("s3", 2), ("s4", 3), ("s6", 2)]


def test_all_series_too_short_is_an_error_even_with_drop(tmp_path):
    path = _csv(tmp_path, [*_hourly("A", 3), *_hourly("B", 4)])
    assert _error(path, min_rows=10, too_short="drop") == (
        f"series.csv must have a series of at least 10 rows (series.lookback plus the rows "
        f"its splits need); all 2 series are shorter (the longest, 'B', has 4). "
        f"Received: series.csv='{path}'")


def test_a_missing_value_names_the_series_and_line(tmp_path):
    path = _csv(tmp_path, [*_hourly("A", 3), "B,2000-01-01 00:00,,1", *_hourly("B", 3)[1:]])
    assert _error(path) == (
        f"{path}:5 (series 'B') column 'y' has a missing value; set series.fill to 'ffill' "
        f"or 'interpolate' to fill 1 missing cells. Received: {path}:5=''")
