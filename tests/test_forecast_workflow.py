"""`rnn-pipeline fit` on a forecasting pipeline: run folder, metrics table against the
baselines on the same windows, plots, and one-line errors that write nothing."""

import json
import math

import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli

PIPELINE = """
name = "air"
task = "forecast"
[series]
csv = "{csv}"
time_column = "Month"
targets = ["{target}"]
season = 12
lookback = 24
horizon = 12
{extra}
[model]
cell = "gru"
units = 8
num_layers = 1
[train]
epochs = 3
batch_size = 16
learning_rate = 0.05
early_stopping = 1
"""


def monthly_rows(months=144):
    """A series shaped like the airline passengers (1949-01 to 1960-12): a trend times a
    yearly season, whole numbers."""
    rows = ['"Month","Passengers"']
    for t in range(months):
        value = round((110 + 2.5 * t) * (1 + 0.2 * math.sin(2 * math.pi * t / 12)))
        rows.append(f'"{1949 + t // 12}-{t % 12 + 1:02d}",{value}')
    return rows


def _fit(tmp_path, extra="", target="Passengers", options=()):
    csv = tmp_path / "monthly.csv"
    csv.write_text("\n".join(monthly_rows()) + "\n")
    pipeline = tmp_path / "air.toml"
    pipeline.write_text(PIPELINE.format(csv=csv.as_posix(), extra=extra, target=target))
    run = tmp_path / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run),
                                    *options]), run


@pytest.fixture
def fitted(fitted_forecast):
    """One trained run (of this module's `_fit`, once per session) shared by the tests
    that only read it."""
    return fitted_forecast


def test_fit_writes_the_table_plots_and_model(fitted):
    result, run = fitted
    assert result.exit_code == 0, result.output
    for name in ("config.toml", "model.keras", "metrics.csv", "forecast_metrics.csv",
                 "forecast_metrics.json", "forecast.png", "error_by_step.png"):
        assert (run / name).is_file(), name
    table = json.loads((run / "forecast_metrics.json").read_text())
    assert [row["model"] for row in table] == ["gru direct", "gru direct linear part", "repeat",
                                               "seasonal_naive", "mean", "linear", "nlinear",
                                               "dlinear"]
    by_name = {row["model"]: row for row in table}
    assert all(row["windows"] == 18 for row in table)  # 29 test rows + 24 lookback -> 18
    # The series is trend + season: the fitted linear maps beat repeating.
    for name in ("linear", "nlinear", "dlinear"):
        assert by_name[name]["mse"] < by_name["repeat"]["mse"], name
    assert "linear" in result.output and "MASE" in result.output
    assert "Highway: least squares on the training windows, penalty 0.001 toward zero (only 3 " \
        "validation windows, fewer than 4 to choose it on)" in result.output
    # 3 validation windows cannot show that the head's correction helps: it is dropped.
    assert "over 3 windows (Diebold-Mariano, too few windows for the test at horizon 12; level " \
        "0.1): dropped: the forecast's location is the highway's" in result.output
    for key in ("mse", "mae", "mase"):
        assert by_name["gru direct"][key] == pytest.approx(
            by_name["gru direct linear part"][key], rel=1e-4)
    check = json.loads((run / "metrics.json").read_text())["final"]["residual_check"]
    assert check["kept"] is False and check["windows"] == 3 and check["statistic"] is None
    assert check["reason"] == "too few windows for the test"


def test_early_stopping_keeps_the_best_epochs_weights(tmp_path):
    import re

    from rnn_pipeline.tasks.forecast.workflow import ForecastWorkflow

    # Without the highway (its fit is near exact here, so no epoch would beat the start).
    result, run = _fit(tmp_path, options=["--set", "model.highway=false"])
    assert result.exit_code == 0, result.output
    losses = [row["valid_loss"] for row in json.loads((run / "metrics.json").read_text())[
        "epochs"]]
    best = losses.index(min(losses))
    assert best < len(losses) - 1  # a later epoch was worse: the weights kept are not the last
    kept = re.search(r"kept the weights of epoch (\d+) \(val_loss ([0-9.]+)\)", result.output)
    assert int(kept.group(1)) == best + 1
    assert float(kept.group(2)) == pytest.approx(min(losses), abs=1e-4)
    workflow = ForecastWorkflow.from_run(run, log=lambda *_: None)
    workflow.load_series()
    history, actual = workflow._windows("valid")
    saved = workflow.model.evaluate(history, actual, verbose=0)
    assert saved == pytest.approx(min(losses), rel=1e-4)  # the saved model is that epoch's


def test_a_bad_column_is_one_line_and_nothing_is_written(tmp_path):
    result, run = _fit(tmp_path, target="Passenger")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: series.targets must name columns of ")
    assert "('Month', 'Passengers'). Received: series.targets='Passenger'" in lines[0]
    assert not run.exists()


def test_level_one_keeps_the_heads_correction(tmp_path):
    result, run = _fit(tmp_path, options=["--set", "model.residual_test=1"])
    assert result.exit_code == 0, result.output
    assert result.output.count("Residual check:") == 1
    assert "level 1): kept" in result.output
    table = {row["model"]: row for row in json.loads((run / "forecast_metrics.json")
                                                     .read_text())}
    assert table["gru direct"]["mse"] != pytest.approx(table["gru direct linear part"]["mse"],
                                                       rel=1e-4)


QUANTILES_RULE = "must be strictly increasing levels in (0, 1), at least one"
LEVEL_RULE = ("must be a significance level in (0, 1] (1 keeps the recurrent head's "
              "correction always)")


@pytest.mark.parametrize("key, bad, rule, shown", [
    ("model.quantiles", "[0.9, 0.1]", QUANTILES_RULE, "[0.9, 0.1]"),
    ("model.quantiles", "[0.1, 1.0]", QUANTILES_RULE, "[0.1, 1.0]"),
    ("model.residual_test", "0", LEVEL_RULE, "0.0"),
    ("model.residual_test", "1.5", LEVEL_RULE, "1.5"),
])
def test_bad_model_values_are_one_line_and_nothing_is_written(tmp_path, key, bad, rule,
                                                              shown):
    result, run = _fit(tmp_path, options=["--set", f"{key}={bad}"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: {key} {rule}. Received: {key}={shown}"]
    assert not run.exists()


def test_forecast_command_continues_the_timestamps(fitted, tmp_path):
    result, run = fitted
    assert result.exit_code == 0, result.output
    recent = tmp_path / "recent.csv"
    source = monthly_rows()
    recent.write_text("\n".join(source[:31]) + "\n")  # header + 1949-01 .. 1951-06
    out = tmp_path / "forecast.csv"
    done = CliRunner().invoke(cli, ["forecast", str(run), "--input", str(recent), "--out",
                                    str(out)])
    assert done.exit_code == 0, done.output
    rows = out.read_text().splitlines()
    assert rows[0] == "Month,Passengers" and len(rows) == 13
    assert rows[1].startswith("1951-07-01,") and rows[12].startswith("1952-06-01,")
    short = tmp_path / "short.csv"
    short.write_text("\n".join(source[:11]) + "\n")
    bad = CliRunner().invoke(cli, ["forecast", str(run), "--input", str(short)])
    assert bad.exit_code == 2
    assert bad.output.startswith("Error: --input must have at least 24 data rows for the "
                                 "run's series.lookback = 24; it has 10.")


def test_export_serves_raw_values_in_a_tensorflow_only_process_and_saved_model_cli(fitted,
                                                                                  tmp_path):
    import numpy as np

    from rnn_pipeline.tasks.forecast.workflow import ForecastWorkflow
    from tests_support import export_run, tf_only_process

    result, run = fitted
    assert result.exit_code == 0, result.output
    path = export_run(run, tmp_path)
    history = (np.arange(24, dtype=np.float32) * 5 + 300).reshape(1, 24, 1)
    out = tf_only_process(path, {"serving_default": {"history": history.tolist()}},
                          cli=("serving_default", f"history={[[[300.0]] * 24] * 2}"))
    model = ForecastWorkflow.from_run(run, log=lambda *_: None).model
    expected = model.predict(history, verbose=0)
    np.testing.assert_allclose(out["serving_default"]["forecast"], expected, rtol=1e-5)
    assert np.shape(out["serving_default"]["forecast"]) == (1, 12, 1)
    assert "Result for output key forecast:" in out["saved_model_cli"]


def test_evaluate_command_prints_and_saves_the_table_of_a_split(fitted, tmp_path):
    import shutil

    from rnn_pipeline.tasks.forecast.workflow import ForecastWorkflow

    result, fitted_run = fitted
    assert result.exit_code == 0, result.output
    run = tmp_path / "run"
    shutil.copytree(fitted_run, run)  # evaluate writes run/evaluation/
    table = json.loads((run / "forecast_metrics.json").read_text())
    done = CliRunner().invoke(cli, ["evaluate", str(run), "--split", "test"])
    assert done.exit_code == 0, done.output
    lines = done.output.strip().splitlines()
    assert lines[0] == "test: 18 windows" and "MASE" in lines[1]
    assert lines[2].startswith("gru direct") and f"{table[0]['mse']:8.4f}" in lines[2]
    folder = run / "evaluation"
    saved = [folder / name for name in ("test.json", "test_forecast.png",
                                        "test_error_by_step.png")]
    assert lines[-3:] == [f"Saved {path}" for path in saved]
    assert sorted(folder.iterdir()) == sorted(saved)
    figures = json.loads(saved[0].read_text())
    assert lines[1:-3] == ForecastWorkflow.summary(figures["table"])  # what it printed
    assert figures["windows"] == 18  # and what fit measured on the same split
    assert [row["model"] for row in figures["table"]] == [row["model"] for row in table]
    assert [row["mse"] for row in figures["table"]] == pytest.approx(
        [row["mse"] for row in table], rel=1e-5)
    assert len(figures["error_by_step"][table[0]["model"]]) == 12  # one per horizon step


@pytest.mark.parametrize("step, season", [("h", 24), ("15min", 96), ("D", 7), ("MS", 12)])
def test_an_inferred_frequency_gets_its_season(tmp_path, step, season):
    import pandas as pd

    from rnn_pipeline.config import pipeline_from_dict
    from rnn_pipeline.tasks.forecast.workflow import ForecastWorkflow

    times = pd.date_range("2024-01-01", periods=200, freq=step)
    csv = tmp_path / "s.csv"
    csv.write_text("time,y\n" + "".join(f"{t},{i % 5}\n" for i, t in enumerate(times)))
    config = pipeline_from_dict({"task": "forecast", "series": {
        "csv": str(csv), "time_column": "time", "targets": ["y"], "lookback": 8, "horizon": 2}})
    workflow = ForecastWorkflow(config, log=lambda line: None).validate()
    workflow.load_series()
    assert (workflow.series_config.frequency, workflow.season) == (step, season)


def test_a_constant_target_reports_mase_as_undefined(tmp_path):
    csv = tmp_path / "flat.csv"
    csv.write_text("Month,Passengers\n" + "".join(
        f"{1949 + t // 12}-{t % 12 + 1:02d},100\n" for t in range(144)))
    pipeline = tmp_path / "flat.toml"
    pipeline.write_text(PIPELINE.format(csv=csv.as_posix(), extra="", target="Passengers"))
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "Warning: MASE is undefined for 'Passengers': seasonal naive (season 12) forecasts " \
           "the training rows exactly" in result.output
    table = json.loads((tmp_path / "run" / "forecast_metrics.json").read_text())
    assert [row["mase"] for row in table] == [None] * len(table)
    assert all(line.endswith(" undefined") for line in result.output.splitlines()
               if line.startswith(("gru direct", "repeat", "linear")))


def test_forecast_out_into_a_missing_folder_is_one_line(fitted, tmp_path):
    result, run = fitted
    recent = tmp_path / "recent.csv"
    recent.write_text("\n".join(monthly_rows()[:31]) + "\n")
    out = tmp_path / "missing" / "f.csv"
    done = CliRunner().invoke(cli, ["forecast", str(run), "--input", str(recent), "--out",
                                    str(out)])
    assert done.exit_code == 2
    assert done.output.strip().splitlines() == [
        f"Error: --out must be a file in an existing folder. Received: --out='{out}'"]
    assert not (tmp_path / "missing").exists()


def test_early_stopping_keeps_the_starting_linear_fit_when_training_only_hurts(tmp_path):
    import numpy as np

    from rnn_pipeline.tasks.forecast.workflow import ForecastWorkflow

    # A noisy straight line: the highway's least-squares fit is all there is to learn, and
    # a learning rate of 1.0 sends the recurrent head far from its zero start.
    rng = np.random.default_rng(0)
    rows = ['"Month","Passengers"'] + [
        f'"{1949 + t // 12}-{t % 12 + 1:02d}",{100 + 2 * t + rng.normal():.3f}'
        for t in range(144)]
    csv = tmp_path / "line.csv"
    csv.write_text("\n".join(rows) + "\n")
    pipeline = tmp_path / "line.toml"
    pipeline.write_text(PIPELINE.format(csv=csv.as_posix(), extra="", target="Passengers")
                        .replace("learning_rate = 0.05", "learning_rate = 1.0"))
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)])
    assert result.exit_code == 0, result.output
    assert "Early stopping: stopped after epoch 2; kept the initial weights (val_loss " \
        in result.output
    losses = [row["valid_loss"] for row in json.loads((run / "metrics.json").read_text())[
        "epochs"]]
    workflow = ForecastWorkflow.from_run(run, log=lambda *_: None)
    workflow.load_series()
    history, actual = workflow._windows("valid")
    assert workflow.model.evaluate(history, actual, verbose=0) < min(losses)
    # The saved model is its own linear part: the head's zero-initialised output.
    np.testing.assert_allclose(workflow.model.predict(history, verbose=0),
                               workflow.model.linear_part(history), rtol=1e-5, atol=1e-4)
