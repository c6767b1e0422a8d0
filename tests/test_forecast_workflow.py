"""`rnn-pipeline fit` on a forecasting pipeline: run folder, metrics table against the
baselines on the same windows, plots, and one-line errors that write nothing."""

import json

from click.testing import CliRunner

from rnn_pipeline.cli.main import cli

PIPELINE = """
name = "air"
task = "forecast"
[series]
dataset = "airline_passengers"
lookback = 24
horizon = 12
{extra}
[model]
cell = "gru"
units = 8
num_layers = 1
[train]
epochs = 2
batch_size = 16
learning_rate = 0.01
"""


def _fit(tmp_path, extra=""):
    pipeline = tmp_path / "air.toml"
    pipeline.write_text(PIPELINE.format(extra=extra))
    run = tmp_path / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run


def test_fit_writes_the_table_plots_and_model(tmp_path, data_mirror):
    result, run = _fit(tmp_path)
    assert result.exit_code == 0, result.output
    for name in ("config.toml", "model.keras", "metrics.csv", "forecast_metrics.csv",
                 "forecast_metrics.json", "forecast.png", "error_by_step.png"):
        assert (run / name).is_file(), name
    table = json.loads((run / "forecast_metrics.json").read_text())
    assert [row["model"] for row in table] == ["gru direct", "repeat", "seasonal_naive",
                                               "mean", "linear"]
    by_name = {row["model"]: row for row in table}
    assert all(row["windows"] == 18 for row in table)  # 29 test rows + 24 lookback -> 18
    # The airline series is trend + season: the fitted linear map beats repeating.
    assert by_name["linear"]["mse"] < by_name["repeat"]["mse"]
    assert "linear" in result.output and "MASE" in result.output


def test_a_bad_column_is_one_line_and_nothing_is_written(tmp_path, data_mirror):
    result, run = _fit(tmp_path, 'targets = ["Passenger"]')
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: series.targets must name columns of ")
    assert "('Month', 'Passengers'). Received: series.targets='Passenger'" in lines[0]
    assert not run.exists()
