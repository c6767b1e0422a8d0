"""Many series, one model: a long-format file (`series.id_column`) split at each series'
own end, windows of every series in one training set, each window on its own scale, the
series id embedded, the M4 scores against the baselines on the same windows, a long-format
forecast and an export with and without the id."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from rnn_pipeline.tasks.forecast.model import Forecaster
from rnn_pipeline.tasks.forecast.series.splits import per_series_ranges, per_series_rows
from rnn_pipeline.tasks.forecast.series.windows import panel_starts

PIPELINE = """
name = "panel"
task = "forecast"
[series]
csv = "{csv}"
id_column = "unique_id"
time_column = "ds"
targets = ["y"]
season = 6
lookback = 12
horizon = 4
id_embedding = 2
{extra}
[model]
cell = "gru"
units = 8
[train]
epochs = 2
batch_size = 16
learning_rate = 0.05
"""

# (id, level, rows): one model for series whose levels differ a hundredfold
SERIES = (("s0", 10.0, 60), ("s1", 1000.0, 70), ("s2", 50.0, 80))


def long_rows(series=SERIES):
    """A long-format CSV of seasonal series (period 6, a slow trend, a little noise),
    rows in reverse order: the reader must sort them."""
    noise = np.random.RandomState(0)
    rows = []
    for name, level, count in series:
        for t in range(count):
            value = level * (1 + 0.3 * math.sin(2 * math.pi * t / 6) + 0.01 * t
                             + 0.02 * noise.randn())
            stamp = np.datetime64("2020-01-01T00") + np.timedelta64(t, "h")
            rows.append(f"{name},{stamp},{value:.4f}")
    return ["unique_id,ds,y", *reversed(rows)]


def _fit(folder, extra=""):
    csv = folder / "long.csv"
    csv.write_text("\n".join(long_rows()) + "\n")
    pipeline = folder / "panel.toml"
    pipeline.write_text(PIPELINE.format(csv=csv.as_posix(), extra=extra))
    run = folder / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    return _fit(tmp_path_factory.mktemp("panel"))


def test_per_series_splits_are_the_m4_protocol():
    # 30 rows, lookback 5, horizon 3, 2 valid and 1 test origin(s): test rows 27-29,
    # valid rows 23-26 (4 = 3 + 2 - 1), training windows forecast rows before 23.
    ranges = per_series_ranges(30, 5, 3, valid_windows=2, test_windows=1)
    assert (ranges.train, ranges.valid, ranges.test) == ((0, 23), (18, 27), (22, 30))
    assert per_series_rows(5, 3, 2, 1) == 5 + 3 + 4 + 3
    # two series of 10 and 12 rows end to end: windows of 4 rows in [0, 6) and [2, 12)
    starts, owner = panel_starts([10, 12], [(0, 6), (2, 12)], 3, 1)
    assert starts.tolist() == [0, 1, 2, 12, 13, 14, 15, 16, 17, 18]
    assert owner.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]


def _model(**kwargs):
    return Forecaster(8, 3, 1, 1, [0.0], [1.0], cell="gru", units=4, window_scale=True,
                      series_ids=["a", "b"], id_embedding=2, **kwargs)


@pytest.mark.parametrize("distribution", ["none", "gaussian"])
def test_a_window_scaled_model_forecasts_a_series_ten_times_larger_ten_times_larger(
        distribution):
    model = _model(distribution=distribution)
    window = np.random.RandomState(0).rand(1, 8, 1).astype("float32") + 1
    history = np.repeat(window, 4, axis=0)  # one window, four ids
    ids = tf.constant(["a", "b", "unseen", ""])

    def forecast(x):
        out = np.asarray(model({"history": tf.constant(x), "series_id": ids}))
        return out if distribution == "none" else out[..., 0]  # the location

    np.testing.assert_allclose(forecast(10 * history), 10 * forecast(history), rtol=1e-4)
    # and the loss is the same: every series weighs alike whatever its level
    model.compile()
    losses = [float(model.compute_loss(x={"history": tf.constant(f * history),
                                          "series_id": ids},
                                       y=tf.constant(f * history[:, :3]),
                                       y_pred=model({"history": tf.constant(f * history),
                                                     "series_id": ids})))
              for f in (1, 10)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
    # an id not seen in training and no id share the unknown series' embedding
    out = forecast(history)
    np.testing.assert_array_equal(out[2], out[3])
    assert not np.allclose(out[0], out[2])


def test_the_window_scaled_id_model_round_trips_its_config():
    model = _model(highway=True)
    again = Forecaster.from_config(model.get_config())
    assert again.get_config() == model.get_config()
    assert again.task_config["series_ids"] == ["a", "b"] and again.parts.window_scale


def test_fit_scores_every_series_as_m4_does_against_the_baselines(fitted):
    result, run = fitted
    assert result.exit_code == 0, result.output
    assert "Series: 3 series, split at their own ends (1 valid and 1 test origin(s) each); " \
        "scale: window" in result.output
    # each series of n rows: n - (4 + 4) test and valid rows - (12 + 4) + 1 training windows
    assert "windows train/valid/test 141/3/3" in result.output
    # one validation window per series: independent windows, so 3 are enough to test
    # the network's correction (one series' 3 overlapping windows would not be)
    assert "over 3 windows (Diebold-Mariano, p = " in result.output
    table = json.loads((run / "forecast_metrics.json").read_text())
    by_name = {row["model"]: row for row in table}
    assert list(by_name) == ["gru direct", "gru direct linear part", "repeat",
                             "seasonal_naive", "mean", "linear", "nlinear", "dlinear",
                             "naive2"]
    assert all(row["windows"] == 3 for row in table)
    assert by_name["naive2"]["owa"] == pytest.approx(1.0)
    # seasonal series: seasonal naive and the fitted linear maps beat repeating the last value
    for name in ("seasonal_naive", "nlinear"):
        assert by_name[name]["smape"] < by_name["repeat"]["smape"], name
    assert by_name["nlinear"]["owa"] < 1.0
    assert "sMAPE" in result.output and "OWA" in result.output


def test_forecast_writes_each_series_horizon_in_long_format(fitted, tmp_path):
    _, run = fitted
    recent = tmp_path / "recent.csv"
    rows = long_rows((("s1", 1000.0, 20), ("new", 5.0, 14)))
    recent.write_text("\n".join(rows) + "\n")
    out = tmp_path / "f.csv"
    result = CliRunner().invoke(cli, ["forecast", str(run), "--input", str(recent),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 series not seen in training get the embedding of an unknown series: 'new'" \
        in result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "unique_id,ds,y" and len(lines) == 1 + 2 * 4
    # in the file's order of first appearance (its rows are reversed), after each last row
    assert lines[1].startswith("new,2020-01-01 14:00:00,")
    assert lines[5].startswith("s1,2020-01-01 20:00:00,")
    values = {line.split(",")[0]: float(line.split(",")[2]) for line in lines[1:]}
    assert 500 < values["s1"] < 2000 and 2 < values["new"] < 10  # each on its own level


def test_the_export_serves_with_and_without_a_series_id(fitted, tmp_path):
    _, run = fitted
    result = CliRunner().invoke(cli, ["export", str(run), "--base", str(tmp_path)])
    assert result.exit_code == 0, result.output
    loaded = tf.saved_model.load(str(tmp_path / "panel" / "1"))
    assert sorted(loaded.signatures) == ["by_series", "serving_default"]
    history = tf.constant(np.linspace(40, 60, 12, dtype="float32")[None, :, None])
    plain = loaded.signatures["serving_default"](history=history)["forecast"].numpy()
    unknown = loaded.signatures["by_series"](history=history,
                                             series_id=tf.constant(["unseen"]))
    np.testing.assert_allclose(unknown["forecast"].numpy(), plain, rtol=1e-6)
    assert plain.shape == (1, 4, 1) and np.all(np.isfinite(plain))


@pytest.mark.parametrize("extra, message", [
    ('split = "fractions"', "Error: series.split must be 'per_series' with series.id_column "
                            "(each series is split at its own end). Received: "
                            "series.split='fractions'"),
    ("lookback = 50", "must have at least 62 rows in each series (series.lookback plus the "
                      "rows its splits need); 1 of 3 series are shorter: 's0' (60 rows); set "
                      "series.too_short = \"drop\" to leave them out"),
])
def test_bad_panel_settings_are_one_line_and_write_nothing(tmp_path, extra, message):
    csv = tmp_path / "long.csv"
    csv.write_text("\n".join(long_rows()) + "\n")
    text = PIPELINE.format(csv=csv.as_posix(), extra=extra if "split" in extra else "")
    if "lookback" in extra:  # 50 + 3 x 4 = 62 rows needed
        text = text.replace("lookback = 12", extra)
    pipeline = tmp_path / "bad.toml"
    pipeline.write_text(text)
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert not run.exists()


def test_an_id_embedding_needs_an_id_column(tmp_path):
    pipeline = tmp_path / "one.toml"
    pipeline.write_text('name = "one"\ntask = "forecast"\n[series]\ncsv = "x.csv"\n'
                        'id_embedding = 4\n')
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: series.id_embedding needs series.id_column (a "
                                     "long-format file of many series). Received: "
                                     "series.id_embedding=4")


def test_origins_count_back_from_each_series_end_and_refuse_what_training_saw():
    from rnn_pipeline.tasks.forecast.backtest import Layout, check_origins, origin_table

    # series of 20 and 25 rows, 3 origins 2 rows apart, horizon 4: the last forecasts
    # rows 16-19 (and 21-24), the first starts 4 rows earlier
    series, origins, ranks = origin_table(np.array([20, 25]), 3, 2, 4)
    assert series.tolist() == [0, 1, 0, 1, 0, 1]
    assert origins.tolist() == [12, 17, 14, 19, 16, 21]
    assert ranks.tolist() == [0, 0, 1, 1, 2, 2]
    data = Layout(None, np.array([0, 20]), np.array([20, 25]), ["a", "b"],
                  first_unseen=np.array([13, 10]), extras={}, times=None)
    check_origins(data, 3, 2, 4, 5, fitted_once=False)  # 12 rows of history >= lookback 5
    with pytest.raises(ValueError) as error:
        check_origins(data, 3, 2, 4, 5, fitted_once=True)
    assert str(error.value) == (
        "--origins must be at most 2 at --step 2 for series 'a' of 20 rows (the model was "
        "trained on forecasts of its rows before row 13; --refit fits one before each "
        "origin). Received: --origins=3")


def test_backtest_scores_every_origin_of_every_series_on_the_same_windows(fitted, tmp_path):
    _, run = fitted
    out = tmp_path / "bt"
    result = CliRunner().invoke(cli, ["backtest", str(run), "--origins", "2", "--out",
                                      str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "by_origin.csv", "by_series.csv", "error_by_origin.png", "summary.json",
        "windows.csv"]
    summary = json.loads((out / "summary.json").read_text())
    by_name = {row["model"]: row for row in summary["summary"]}
    assert all(row["windows"] == 6 for row in by_name.values())  # 2 origins x 3 series
    assert by_name["naive2"]["owa"] == pytest.approx(1.0)
    assert by_name["nlinear"]["mase"] < by_name["repeat"]["mase"]
    if summary["statistical_skipped"] is None:  # statsforecast installed: same windows
        assert by_name["sf_seasonal_naive"]["smape"] == pytest.approx(
            by_name["seasonal_naive"]["smape"], rel=1e-6)
    else:
        assert "statsforecast is not installed" in summary["statistical_skipped"]
    windows = (out / "windows.csv").read_text().splitlines()
    assert windows[0] == "model,series,origin,origin_row,rank,smape,mase"
    # s2 comes first in the file (its rows are reversed); it has 80 rows, horizon 4:
    # origins at rows 75 and 76, from 2020-01-01 00:00 hourly
    assert windows[1].startswith("gru direct,s2,2020-01-04 03:00:00,75,1,")
    assert "Backtest of 6 windows -> " in result.output


def test_too_many_origins_for_the_fitted_model_is_one_line_and_writes_nothing(fitted,
                                                                              tmp_path):
    _, run = fitted
    out = tmp_path / "bt"
    result = CliRunner().invoke(cli, ["backtest", str(run), "--origins", "9", "--out",
                                      str(out)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith(
        "Error: --origins must be at most 5 at --step 1 for series 's2' of 80 rows (the "
        "model was trained on forecasts of its rows before row 72; --refit fits one before "
        "each origin). Received: --origins=9")
    assert not out.exists() and not any(tmp_path.iterdir())


@pytest.mark.slow  # 14 s on 2 cores: the slow suite runs it
def test_refit_fits_before_each_origin_on_the_rows_before_it(tmp_path):
    csv = tmp_path / "long.csv"
    csv.write_text("\n".join(long_rows()) + "\n")
    pipeline = tmp_path / "panel.toml"
    pipeline.write_text(PIPELINE.format(csv=csv.as_posix(), extra="").replace(
        "epochs = 2", "epochs = 1"))
    out = tmp_path / "bt"
    result = CliRunner().invoke(cli, ["backtest", str(pipeline), "--origins", "2",
                                      "--step", "3", "--refit", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Backtest: fit 1/2, on the rows before origin 1 of each series" in result.output
    for rank, dropped in ((1, 3), (2, 0)):  # the first fit ends 3 rows earlier
        saved = (out / "fits" / f"origin_{rank}" / "config.toml").read_text()
        assert f"drop_last = {dropped}" in saved
    # each fit's test windows are its origin's: 2 x 3 windows scored
    summary = json.loads((out / "summary.json").read_text())
    assert summary["summary"][0]["windows"] == 6


@pytest.mark.parametrize("edit, message", [
    (lambda rows: [rows[0].replace("unique_id", "series")] + rows[1:],
     "series.id_column must name columns of "),
    (lambda rows: rows + [rows[5]], "repeats the timestamp"),
    (lambda rows: [r for r in rows if not r.startswith("s1,2020-01-02T03")],
     "(series 's1')"),
])
def test_a_bad_long_file_is_one_line_naming_the_series_and_writes_nothing(tmp_path, edit,
                                                                        message):
    csv = tmp_path / "long.csv"
    csv.write_text("\n".join(edit(long_rows())) + "\n")
    pipeline = tmp_path / "bad.toml"
    pipeline.write_text(PIPELINE.format(csv=csv.as_posix(), extra=""))
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert not run.exists()


def test_without_statsforecast_the_backtest_says_its_models_were_skipped(fitted, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "statsforecast", None)  # not installed
    _, run = fitted
    out = tmp_path / "bt"
    result = CliRunner().invoke(cli, ["backtest", str(run), "--origins", "1", "--out",
                                      str(out)])
    assert result.exit_code == 0, result.output
    reason = "statsforecast is not installed: pip install 'rnn-pipeline[stats]'"
    assert f"statsforecast's models were skipped: {reason}" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["statistical_skipped"] == reason
    assert [row["model"] for row in summary["summary"]][-1] == "naive2"
    assert not any(row["model"].startswith("auto_") for row in summary["summary"])


@pytest.mark.slow  # 7 s on 2 cores: the slow suite runs it
def test_too_short_series_are_dropped_by_name_when_asked(tmp_path):
    csv = tmp_path / "long.csv"
    csv.write_text("\n".join(long_rows()) + "\n")
    pipeline = tmp_path / "drop.toml"
    # lookback 50: 50 + 3 x 4 = 62 rows needed, s0 has 60
    pipeline.write_text(PIPELINE.format(csv=csv.as_posix(), extra='too_short = "drop"')
                        .replace("lookback = 12", "lookback = 50")
                        .replace("epochs = 2", "epochs = 1"))
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)])
    assert result.exit_code == 0, result.output
    assert "Series: 2 series (1 too short for the splits dropped: 's0' (60 rows)), split " \
        "at their own ends" in result.output
    table = json.loads((run / "forecast_metrics.json").read_text())
    assert table[0]["windows"] == 2
