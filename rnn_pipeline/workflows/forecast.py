"""The forecasting workflow: a CSV or a registry series -> trained forecaster, a metrics
table against the baselines on the same windows, plots and a run folder."""

import csv
import dataclasses
import json
import time

import keras
import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.models.forecaster import Forecaster
from rnn_pipeline.runs import RunFolder
from rnn_pipeline.runs.callbacks import run_callbacks
from rnn_pipeline.runs.forecast_plots import plot_error_by_step, plot_forecasts
from rnn_pipeline.series.baselines import BASELINES
from rnn_pipeline.series.metrics import error_by_step, forecast_metrics, seasonal_scale
from rnn_pipeline.series.source import load_series, resolve
from rnn_pipeline.series.splits import split_ranges
from rnn_pipeline.series.windows import make_windows, window_arrays, window_count
from rnn_pipeline.training import make_optimizer, make_schedule
from rnn_pipeline.training.gradients import epoch_gradient_summary
from rnn_pipeline.training.stopping import make_early_stopping
from rnn_pipeline.training.trainer import progress_callbacks, progress_verbosity
from rnn_pipeline.workflows.base import WORKFLOWS, Workflow, say

TABLE_CSV, TABLE_JSON = "forecast_metrics.csv", "forecast_metrics.json"
FORECAST_PNG, ERROR_PNG = "forecast.png", "error_by_step.png"
SEASONS = {"h": 24, "15min": 96, "D": 7, "MS": 12}
MAX_LINEAR_WINDOWS = 4000


class LossRecorder(keras.callbacks.Callback):
    """Per-epoch rows: learning rate, train and valid loss (scaled MSE), seconds."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.rows.append({"epoch": epoch + 1,
                          "learning_rate": float(keras.ops.convert_to_numpy(
                              self.model.optimizer.learning_rate)),
                          "train_loss": float(logs.get("loss", float("nan"))),
                          "valid_loss": float(logs.get("val_loss", float("nan"))),
                          "seconds": time.perf_counter() - self._start,
                          **epoch_gradient_summary(self.model)})


@WORKFLOWS.register("forecast")
class ForecastWorkflow(Workflow):
    """Args:
        config: a resolved `PipelineConfig` with ``task = "forecast"``.
        log: callable for progress lines.
    """

    # --- preparation: everything that can fail on user input, nothing written ---
    def _build(self, num_inputs, num_targets, mean, std):
        s, m = self.series_config, self.config.model
        return Forecaster(s.lookback, s.horizon, num_inputs, num_targets, mean, std,
                          head=m.head, cell=m.cell, units=m.units, num_layers=m.num_layers,
                          bidirectional=m.bidirectional, dropout=m.dropout,
                          instance_norm=s.instance_norm, segment_length=m.segment_length,
                          seed=self.config.train.seed)

    def validate(self):
        """Checks series, model and training settings before any data is read."""
        self.series_config = resolve(self.config.series)
        make_optimizer(self.config.train)
        make_schedule(self.config.train, "val_loss")
        make_early_stopping(self.config.train, "val_loss")
        columns = max(1, len(self.series_config.targets) + len(self.series_config.covariates))
        self._build(columns, max(1, len(self.series_config.targets)), [0.0] * columns,
                    [1.0] * columns)
        make_windows(np.zeros([1, 1], np.float32), 1, 1, 1, stride=self.series_config.stride)
        return self

    def _load_data(self):
        """Reads and checks the series, splits it and fits the scaler (train rows only)."""
        start = time.perf_counter()
        self.series_config, self.series = load_series(self.config.series)
        s, series = self.series_config, self.series
        # The resolved config (dataset defaults, inferred frequency) is saved with the model.
        self.series_config = s = dataclasses.replace(s, frequency=series.frequency)
        self.config = dataclasses.replace(self.config, series=s)
        self.ranges = split_ranges(len(series.values), series.frequency, s.lookback, s.horizon,
                                   s.split, s.valid_fraction, s.test_fraction)
        self.splits = {name: series.values[a:b] for name, (a, b) in self.ranges.items()}
        train = self.splits["train"]
        self.mean = train.mean(axis=0)
        self.std = np.where(train.std(axis=0) > 0, train.std(axis=0), 1.0)
        self.num_targets = len(series.targets)
        self.season = s.season or SEASONS.get(series.frequency, 1)
        return time.perf_counter() - start

    def prepare(self):
        """Reads and checks the series, splits it, fits the scaler, builds the model."""
        self.validate()
        cfg = self.config
        keras.utils.set_random_seed(cfg.train.seed)
        seconds = self._load_data()
        s, series = self.series_config, self.series
        self.datasets = {
            name: make_windows(values, self.num_targets, s.lookback, s.horizon,
                               stride=s.stride if name == "train" else 1,
                               batch_size=cfg.train.batch_size, shuffle=name == "train",
                               seed=cfg.train.seed)
            for name, values in self.splits.items()}
        filled = f", {series.filled} missing cells filled ({s.fill})" if series.filled else ""
        counts = "/".join(
            f"{window_count(len(v), s.lookback, s.horizon, s.stride if n == 'train' else 1):,}"
            for n, v in self.splits.items())
        self.log(f"Data: {len(series.values):,} rows at {series.frequency!r}, targets "
                 f"{', '.join(series.targets)}; windows train/valid/test {counts}{filled}; "
                 f"prepared in {seconds:.1f}s")
        self.model = self._build(len(series.columns), self.num_targets, self.mean, self.std)
        self.model.compile(optimizer=make_optimizer(self.config.train))
        return self

    # --- training ---
    def fit(self, run_path):
        """Trains, evaluates the test windows against the baselines, writes the run folder.

        Returns:
            the metrics table: a list of rows, the model first.
        """
        run = RunFolder(run_path).create()
        run.save_config(self.config)
        self.log(f"Model: {self.model.count_params():,} parameters; run folder {run.path}")
        recorder = LossRecorder()
        self.model.fit(self.datasets["train"], validation_data=self.datasets["valid"],
                       epochs=self.config.train.epochs, shuffle=False,
                       callbacks=[*make_schedule(self.config.train, "val_loss"), recorder,
                                  *make_early_stopping(self.config.train, "val_loss", self.log),
                                  *run_callbacks(run),
                                  *progress_callbacks(self.log, progress_verbosity())],
                       verbose=progress_verbosity())
        run.save_model(self.model)
        history, actual = self._windows("test")
        table, forecasts, errors = self._table("test", history, actual)
        run.save_metrics(recorder.rows, {"test": table})
        self._write_table(run, table)
        plot_forecasts(history, actual, {k: forecasts[k] for k in (table[0]["model"], "linear")},
                       self.series.targets[0], run.file(FORECAST_PNG))
        plot_error_by_step(errors, run.file(ERROR_PNG),
                           f"{self.config.name}: test error by horizon step")
        return table

    def _windows(self, split):
        s = self.series_config
        return window_arrays(self.splits[split], self.num_targets, s.lookback, s.horizon)

    def _baseline_forecasts(self, history):
        """Baselines on scaled values (the linear fit is then fair to every column)."""
        s, t = self.series_config, self.num_targets
        train_history, train_future = window_arrays(self.splits["train"], t, s.lookback,
                                                    s.horizon, stride=max(1, s.stride))
        keep = np.linspace(0, len(train_history) - 1,
                           min(len(train_history), MAX_LINEAR_WINDOWS)).astype(int)
        scaled = (history - self.mean) / self.std
        forecasts = {}
        for name in ("repeat", "seasonal_naive", "mean", "linear"):
            if name == "seasonal_naive" and self.season > s.lookback:
                continue
            baseline = BASELINES.get(name)(self.season) if name == "seasonal_naive" \
                else BASELINES.get(name)()
            baseline.fit((train_history[keep] - self.mean) / self.std,
                         (train_future[keep] - self.mean[:t]) / self.std[:t])
            out = baseline.predict(scaled, s.horizon, t)
            forecasts[name] = out * self.std[:t] + self.mean[:t]
        return forecasts

    def evaluate(self, split):
        """The metrics table of a split: the model and every baseline on the same windows.

        Returns:
            (rows, forecasts by name, scaled MSE by horizon step by name).
        """
        return self._table(split, *self._windows(split))

    def _table(self, split, history, actual):
        m = self.config.model
        name = f"{m.cell} {m.head}"
        forecasts = {name: self.model.predict(history, batch_size=256, verbose=0)}
        forecasts.update(self._baseline_forecasts(history))
        t = self.num_targets
        scale = seasonal_scale(self.splits["train"][:, :t], self.season)
        flat = [name for name, value in zip(self.series.targets, scale) if value == 0]
        if flat:
            self.log(f"Warning: MASE is undefined for {', '.join(map(repr, flat))}: seasonal "
                     f"naive (season {self.season}) forecasts the training rows exactly "
                     f"(a constant target?); it is left out of MASE.")
        rows, errors = [], {}
        for key, forecast in forecasts.items():
            metrics = forecast_metrics(forecast, actual, self.mean[:t], self.std[:t], scale)
            rows.append({"model": key, "split": split, "windows": len(actual), **metrics})
            errors[key] = error_by_step(forecast, actual, self.std[:t])
        return rows, forecasts, errors

    @staticmethod
    def _write_table(run, table):
        with open(run.file(TABLE_CSV), "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
        run.file(TABLE_JSON).write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")

    # --- a finished run ---
    @classmethod
    def from_run(cls, run_path, log=say):
        """Loads the trained forecaster and resolved config of a run folder."""
        run = RunFolder(run_path).check_exists()
        workflow = cls(run.load_config(), log=log)
        workflow.series_config = resolve(workflow.config.series)
        workflow.model = run.load_model(compile=True)
        return workflow

    def evaluation_lines(self, split):
        """``rnn-pipeline evaluate``: the split's metrics table against the baselines."""
        self._load_data()
        table, _, _ = self.evaluate(split)
        return [f"{split}: {table[0]['windows']:,} windows", *self.summary(table)]

    def forecast_file(self, path):
        """Forecasts the ``horizon`` rows after the last ``lookback`` rows of a CSV with the
        run's columns; timestamps continue at the series' frequency.

        Returns:
            a pandas DataFrame: the time column and one column per target.
        """
        import pandas as pd

        from rnn_pipeline.series.reader import read_series

        s = self.series_config
        series = read_series(path, s.time_column, s.targets, s.covariates, s.frequency, s.fill)
        if len(series.values) < s.lookback:
            raise pipeline_error("--input", f"must have at least lookback = {s.lookback} rows",
                                 f"{path} ({len(series.values)} rows)")
        history = series.values[None, -s.lookback:]  # (1, lookback, columns)
        forecast = self.model.predict(history, verbose=0)[0]  # (horizon, targets)
        times = pd.date_range(series.times[-1], periods=s.horizon + 1, freq=s.frequency)[1:]
        frame = pd.DataFrame(forecast, columns=s.targets)
        frame.insert(0, s.time_column, times)
        return frame

    def serving_module(self, assets_dir, **options):
        """The TF Serving module of the trained forecaster (see `ForecastServing`)."""
        from rnn_pipeline.export.forecast_serving import ForecastServing

        return ForecastServing(self.model)

    @staticmethod
    def summary(table):
        """The metrics table as aligned text lines."""
        lines = [f"{'model':<22}{'MSE':>8}{'MAE':>8}{'MAE (orig)':>12}{'RMSE (orig)':>13}"
                 f"{'MASE':>8}"]
        for row in table:
            lines.append(f"{row['model']:<22}{row['mse']:8.4f}{row['mae']:8.4f}"
                         f"{row['mae_original']:12.4f}{row['rmse_original']:13.4f}"
                         + (f"{row['mase']:8.4f}" if row["mase"] is not None else
                            f"{'undefined':>10}"))
        return lines
