"""Covariates a real CSV has: categorical columns (their vocabulary inside the model, raw
strings into the export) and calendar features computed in the graph from timestamps."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.forecast.model import Forecaster
from rnn_pipeline.tasks.forecast.series.calendar import calendar_features, calendar_values, epoch_seconds
from rnn_pipeline.tasks.forecast.series.reader import read_series
from test_forecast_workflow import PIPELINE
from tests_support import assert_round_trips


def test_calendar_values_match_pandas_from_1900_to_2100():
    rng = np.random.default_rng(0)
    seconds = rng.integers(-2_208_988_800, 4_102_444_800, size=2_000)  # 1900 .. 2100
    seconds = np.concatenate([seconds, [0, 951_782_400, 951_868_800, 1_709_164_800]])
    times = pd.to_datetime(seconds, unit="s")  # ... and 2000-02-29, 2000-03-01, 2024-02-29
    expected = {"minute": times.minute, "hour": times.hour, "day_of_week": times.dayofweek,
                "day_of_month": times.day - 1, "day_of_year": times.dayofyear - 1,
                "month": times.month - 1}
    for name, values in expected.items():
        found, _ = calendar_values(seconds, name)
        np.testing.assert_array_equal(np.asarray(found), np.asarray(values), err_msg=name)
    np.testing.assert_array_equal(epoch_seconds(times), seconds)
    features = np.asarray(calendar_features(seconds[:3], ["hour", "month"]))
    assert features.shape == (3, 4)
    np.testing.assert_allclose(features[:, 0] ** 2 + features[:, 1] ** 2, 1.0, rtol=1e-6)


def _csv(tmp_path, months=144, unseen_at=None):
    """Monthly values with a string column: 'high' months are lifted by 30."""
    rows = ['Month,Passengers,season']
    for t in range(months):
        label = "high" if t % 12 in (5, 6, 7) else "low"
        if unseen_at is not None and t >= unseen_at:
            label = "festival"
        value = 110 + 2.5 * t + (30 if label == "high" else 0) + 5 * math.sin(t)
        rows.append(f"{1949 + t // 12}-{t % 12 + 1:02d},{value:.2f},{label}")
    path = tmp_path / "monthly.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_string_covariate_is_categorical_and_a_string_target_is_an_error(tmp_path):
    path = _csv(tmp_path)
    series = read_series(path, "Month", ["Passengers"], ["season"])
    assert series.categorical == ["season"] and series.covariates == []
    assert series.values.shape == (144, 1) and series.categories[5:8, 0].tolist() == [
        "high"] * 3
    with pytest.raises(PipelineError, match=r"column 'season' must be numeric\. Received: "):
        read_series(path, "Month", ["season"], [])
    gap = path.read_text().replace(",high\n", ",\n", 1)
    (tmp_path / "gap.csv").write_text(gap)
    with pytest.raises(PipelineError, match=r"gap\.csv:7 column 'season' has a missing value"):
        read_series(tmp_path / "gap.csv", "Month", ["Passengers"], ["season"])
    filled = read_series(tmp_path / "gap.csv", "Month", ["Passengers"], ["season"], fill="ffill")
    assert filled.categories[5, 0] == "low" and filled.filled == 1


def _model(**kwargs):
    options = dict(mean=[0.0], std=[1.0], head="direct", cell="gru", units=6, seed=1,
                   categorical_vocabularies=[["high", "low"]], calendar=["month", "hour"])
    options.update(kwargs)
    return Forecaster(6, 3, 1, 1, **options)


def _inputs(labels, start="2020-01-01"):
    times = pd.date_range(start, periods=9, freq="MS")
    return {"history": np.arange(6, dtype=np.float32).reshape(1, 6, 1),
            "categories": np.array(labels, dtype=object).reshape(1, 6, 1),
            "time": epoch_seconds(times)[None]}


def test_categories_and_the_calendar_live_in_the_model_and_round_trip(tmp_path):
    model = _model()
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    inputs = _inputs(["low"] * 3 + ["high"] * 3)
    expected = model(inputs).numpy()
    assert expected.shape == (1, 3, 1)
    # Both inputs change the forecast.
    assert not np.allclose(model(_inputs(["low"] * 6)).numpy(), expected)
    assert not np.allclose(model(_inputs(["low"] * 3 + ["high"] * 3, "2020-06-01")).numpy(),
                           expected)
    # Unseen values share the one out-of-vocabulary id.
    np.testing.assert_allclose(model(_inputs(["festival"] * 6)).numpy(),
                               model(_inputs(["parade"] * 6)).numpy())
    assert_round_trips(model, inputs, tmp_path)


def test_an_unknown_calendar_feature_is_one_line(tmp_path):
    path = _csv(tmp_path)
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(PIPELINE.format(csv=path.as_posix(), target="Passengers",
                                        extra='calendar = ["hours"]'))
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {pipeline}: series.calendar must be one of: 'day_of_month', 'day_of_week', 'day_of_year', "
        "'hour', 'minute', 'month'. Received: series.calendar='hours'"]
    assert not (tmp_path / "r").exists()


@pytest.fixture(scope="module")
def covariate_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("covariates")
    path = _csv(folder, unseen_at=140)  # the last test rows have a value never trained on
    pipeline = folder / "p.toml"
    pipeline.write_text(PIPELINE.format(csv=path.as_posix(), target="Passengers",
                                        extra='covariates = ["season"]\ncalendar = ["month"]'))
    run = folder / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run, path


def test_fit_learns_the_vocabulary_and_warns_about_unseen_values(covariate_run):
    result, run, _ = covariate_run
    assert result.exit_code == 0, result.output
    assert "categorical 'season': 2 values; calendar month" in result.output
    assert ("Warning: series.covariates 'season' has 1 value(s) in the test rows not seen in "
            "training, mapped to the out-of-vocabulary bucket: 'festival'") in result.output
    table = json.loads((run / "forecast_metrics.json").read_text())
    assert math.isfinite(table[0]["mse"])


def test_the_export_takes_raw_strings_and_timestamps(covariate_run, tmp_path):
    from rnn_pipeline.tasks.forecast.workflow import ForecastWorkflow
    from tests_support import export_run, tf_only_process

    result, run, path = covariate_run
    export_dir = export_run(run, tmp_path)
    frame = pd.read_csv(path)
    inputs = {"history": frame["Passengers"].to_numpy(np.float32)[None, :24, None],
              "categories": frame["season"].to_numpy(object)[None, :24, None],
              "time": epoch_seconds(pd.to_datetime(frame["Month"]))[None, :36]}
    request = {k: v.tolist() for k, v in inputs.items()}
    out = tf_only_process(export_dir, {"serving_default": request})
    model = ForecastWorkflow.from_run(run, log=lambda *_: None).model
    np.testing.assert_allclose(out["serving_default"]["forecast"],
                               model.predict_windows(inputs), rtol=1e-5)


def test_forecast_reads_the_categories_and_continues_the_calendar(covariate_run, tmp_path):
    _, run, path = covariate_run
    recent = tmp_path / "recent.csv"
    recent.write_text("\n".join(path.read_text().splitlines()[:31]) + "\n")
    done = CliRunner().invoke(cli, ["forecast", str(run), "--input", str(recent)])
    assert done.exit_code == 0, done.output
    assert "1951-07-01" in done.output and "1952-06-01" in done.output
