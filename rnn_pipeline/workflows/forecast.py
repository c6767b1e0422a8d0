"""The forecasting workflow: a CSV or a registry series -> trained forecaster, a metrics
table against the baselines on the same windows, plots and a run folder."""

import csv
import dataclasses
import json
import time

import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.models.builder import build_forecaster
from rnn_pipeline.runs.forecast_plots import plot_error_by_step, plot_forecasts
from rnn_pipeline.series.baselines import BASELINES
from rnn_pipeline.series.metrics import error_by_step, forecast_metrics, seasonal_scale
from rnn_pipeline.series.reader import default_season
from rnn_pipeline.series.source import load_series, resolve
from rnn_pipeline.series.splits import split_ranges
from rnn_pipeline.series.windows import make_windows, window_arrays, window_count
from rnn_pipeline.workflows.base import WORKFLOWS, Workflow

TABLE_CSV, TABLE_JSON = "forecast_metrics.csv", "forecast_metrics.json"
FORECAST_PNG, ERROR_PNG = "forecast.png", "error_by_step.png"
MAX_LINEAR_WINDOWS = 4000


@WORKFLOWS.register("forecast")
class ForecastWorkflow(Workflow):
    """Args:
        config: a resolved `ForecastConfig`.
        log: callable for progress lines.
    """

    metric = "loss"
    run_files = {
        TABLE_CSV: "test table: the model and every baseline on the same windows",
        TABLE_JSON: "the same table as JSON",
        FORECAST_PNG: "a few test windows: history, actual, the model and the linear baseline",
        ERROR_PNG: "scaled MSE per horizon step, one line per forecaster",
    }

    # --- preparation: everything that can fail on user input, nothing written ---
    def _build(self, num_inputs, num_targets, mean, std):
        config = dataclasses.replace(self.config, series=self.series_config)
        return build_forecaster(config, num_inputs, num_targets, mean, std)

    def check(self):
        """Checks the series and model settings (a throwaway model on zeros)."""
        self.series_config = resolve(self.config.series)
        columns = max(1, len(self.series_config.targets) + len(self.series_config.covariates))
        self._build(columns, max(1, len(self.series_config.targets)), [0.0] * columns,
                    [1.0] * columns)
        make_windows(np.zeros([1, 1], np.float32), 1, 1, 1, stride=self.series_config.stride)

    def load_series(self):
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
        self.season = s.season or default_season(series.frequency)
        return time.perf_counter() - start

    def load_data(self):
        """Reads the series, splits it, fits the scaler and cuts the windows."""
        cfg = self.config
        seconds = self.load_series()
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

    def build_model(self):
        return self._build(len(self.series.columns), self.num_targets, self.mean, self.std)

    # --- training ---
    def finish(self, run, rows, seconds):
        """The test table against the baselines, metrics, forecast and error plots.

        Returns:
            the metrics table: a list of rows, the model first.
        """
        history, actual = self._windows("test")
        table, forecasts, errors = self._table("test", history, actual)
        run.save_metrics(rows, {"test": table})
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
    def restore(self, run):
        self.series_config = resolve(self.config.series)

    def evaluation_lines(self, split):
        """``rnn-pipeline evaluate``: the split's metrics table against the baselines."""
        self.load_series()
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

    def make_serving_module(self, assets_dir):
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
