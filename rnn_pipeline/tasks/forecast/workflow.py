"""The forecasting workflow: a CSV or a registry series -> trained forecaster, a metrics
table against the baselines on the same windows, plots and a run folder."""

import csv
import dataclasses
import json
import time

import numpy as np

from rnn_pipeline.errors import pipeline_error


from rnn_pipeline.tasks.forecast.calibration import calibrate_quantiles
from rnn_pipeline.tasks.forecast.highway import fit_highway
from rnn_pipeline.tasks.forecast.model import build_forecaster  # (registers its classes)
from rnn_pipeline.tasks.forecast.panel_steps import PanelSteps
from rnn_pipeline.tasks.forecast.plots import plot_error_by_step, plot_forecasts, window_times
from rnn_pipeline.tasks.forecast.residual import check_level, check_residual
from rnn_pipeline.tasks.forecast.series.calendar import epoch_seconds
from rnn_pipeline.tasks.forecast.series.table import (baseline_forecasts, best_linear,
                                                      metrics_table, table_lines)
from rnn_pipeline.tasks.forecast.series.metrics import (INTERVALS, distribution_metrics,
                                                        seasonal_scale)
from rnn_pipeline.tasks.forecast.series.panel_table import panel_table_lines
from rnn_pipeline.tasks.forecast.series.reader import default_season
from rnn_pipeline.tasks.forecast.series.source import load_series, resolve
from rnn_pipeline.tasks.forecast.series.splits import split_ranges
from rnn_pipeline.tasks.forecast.series.windows import (make_windows, numeric_history,
                                                        window_arrays)
from rnn_pipeline.workflows.base import Workflow

TABLE_CSV, TABLE_JSON = "forecast_metrics.csv", "forecast_metrics.json"
FORECAST_PNG, ERROR_PNG = "forecast.png", "error_by_step.png"
MAX_LINEAR_WINDOWS = 4000
# Fewer validation windows than this are too few to choose the highway's penalty and prior on
# (one of `RIDGES` times two priors): it then keeps the default fit. 4 is the smallest set
# on which `benchmarks/highway_selection.py` found choosing better than the default (the
# nested check, BENCHMARKS.md, issue 20); it was 10.
MIN_SELECTION_WINDOWS = 4
# The share of training windows whose series id is hidden (``series.id_embedding``): the
# embedding of an unknown series is learned from them.
HIDDEN_IDS = 0.1


class ForecastWorkflow(PanelSteps, Workflow):
    """Args:
        config: a resolved `ForecastConfig`.
        log: callable for progress lines.
    """

    metric = "loss"
    run_files = {
        TABLE_CSV: "test table: the model and every baseline on the same windows",
        TABLE_JSON: "the same table as JSON",
        FORECAST_PNG: "a few test windows: history, actual, the model and the best linear "
                      "baseline",
        ERROR_PNG: "scaled MSE per horizon step, one line per forecaster",
    }

    # --- preparation: everything that can fail on user input, nothing written ---
    def _build(self, num_inputs, num_targets, mean, std, vocabularies=(), series_ids=()):
        config = dataclasses.replace(self.config, series=self.series_config)
        return build_forecaster(config, num_inputs, num_targets, mean, std, vocabularies,
                                series_ids)

    def check(self):
        """Checks the series and model settings (a throwaway model on zeros)."""
        self.series_config = resolve(self.config.series)
        columns = max(1, len(self.series_config.targets) + len(self.series_config.covariates))
        self._build(columns, max(1, len(self.series_config.targets)), [0.0] * columns,
                    [1.0] * columns, series_ids=["a series"])
        make_windows(np.zeros([1, 1], np.float32), 1, 1, 1, stride=self.series_config.stride)
        check_level(self.config.model.residual_test)
        m = self.config.model
        if m.conformal and m.distribution != "quantile":
            raise pipeline_error("model.conformal", "needs model.distribution = 'quantile' "
                                 "(it shifts the forecast quantiles)", m.conformal)

    def load_series(self):
        """Reads and checks the series, splits it and fits the scaler (train rows only)."""
        start = time.perf_counter()
        self.panel = None
        if self.config.series.id_column is not None:
            self._load_panel()
            return time.perf_counter() - start
        self.series_config, self.series = load_series(self.config.series)
        s, series = self.series_config, self.series
        # The resolved config (dataset defaults, inferred frequency) is saved with the model.
        self.series_config = s = dataclasses.replace(s, frequency=series.frequency)
        self.config = dataclasses.replace(self.config, series=s)
        self.ranges = split_ranges(len(series.values), series.frequency, s.lookback, s.horizon,
                                   s.split, s.valid_fraction, s.test_fraction)
        self.splits = {name: series.values[a:b] for name, (a, b) in self.ranges.items()}
        seconds = epoch_seconds(series.times) if s.calendar else None
        self.extras = {name: {"categories": None if series.categories is None else
                              series.categories[a:b],
                              "seconds": None if seconds is None else seconds[a:b]}
                       for name, (a, b) in self.ranges.items()}
        train_categories = self.extras["train"]["categories"]
        self.vocabularies = [] if train_categories is None else [
            sorted(set(train_categories[:, j])) for j in range(train_categories.shape[1])]
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
                               seed=cfg.train.seed, **self.extras[name],
                               hide_ids=HIDDEN_IDS if name == "train" and s.id_embedding
                               else 0.0)
            for name, values in self.splits.items()}
        filled = f", {series.filled} missing cells filled ({s.fill})" if series.filled else ""
        counts = "/".join(f"{self._window_count(name):,}" for name in self.splits)
        categorical = "".join(f"; categorical {name!r}: {len(vocabulary)} values"
                              for name, vocabulary in zip(series.categorical,
                                                          self.vocabularies))
        calendar = f"; calendar {', '.join(s.calendar)}" if s.calendar else ""
        if self.panel is not None:
            self.log(self._panel_line())
        self.log(f"Data: {len(series.values):,} rows at {series.frequency!r}, targets "
                 f"{', '.join(series.targets)}{categorical}{calendar}; windows "
                 f"train/valid/test {counts}{filled}; prepared in {seconds:.1f}s")

    def build_model(self):
        """The forecaster; on the first build its highway is fitted to the training windows,
        its penalty and prior chosen on the validation windows (a copy for saving takes the
        trained weights instead)."""
        model = self._build(len(self.series.columns), self.num_targets, self.mean, self.std,
                            self.vocabularies, self.panel.ids if self.panel else ())
        if getattr(self, "model", None) is None and self.config.model.highway:
            valid = self._linear_windows("valid")
            count = len(valid[0])
            if count < MIN_SELECTION_WINDOWS:
                valid = None
            choice = fit_highway(model, *self._train_windows(), valid=valid, season=self.season)
            if valid is None:
                self.log(f"Highway: least squares on the training windows, penalty "
                         f"{choice['ridge']:g} toward zero (only {count} validation windows, "
                         f"fewer than {MIN_SELECTION_WINDOWS} to choose it on)")
            else:
                self.log(f"Highway: least squares on the training windows, pulled toward "
                         f"{choice['prior']} weights with penalty {choice['ridge']:g}, chosen "
                         f"on {count:,} validation windows (scaled MSE "
                         f"{choice['valid_mse']:.4f})")
        return model

    # --- training ---
    def after_training(self):
        """Keeps the head's correction to the highway where validation shows it helps;
        with ``model.conformal``, calibrates the intervals on the validation windows."""
        s = self.series_config
        overlap = min(s.horizon, s.valid_windows) if self.panel is not None else None
        self.residual_check = None if not self.config.model.highway else check_residual(
            self.model, *self._windows("valid"), self.config.model.residual_test, self.log,
            overlap)
        self.calibration = None
        if self.config.model.conformal:
            self.calibration = calibrate_quantiles(self.model, *self._windows("valid"),
                                                   self.log)

    def finish(self, run, rows, seconds):
        """The test table against the baselines, metrics, forecast and error plots.

        Returns:
            the metrics table: a list of rows, the model first.
        """
        table = self.evaluate_windows("test")
        run.save_metrics(rows, {"test": table, "residual_check": self.residual_check,
                                "conformal": self.calibration and {
                                    f"{share:g}": dict(zip(("before", "after"), values))
                                    for share, values in self.calibration.items()}})
        self._write_table(run, table)
        self._plot("test", run.path)
        return table

    def _plot(self, split, folder, prefix=""):
        """The forecast and error-by-step PNGs of the split `evaluate_windows` scored last
        in ``folder`` (their figures kept as ``self.figures``); returns their paths."""
        table, forecasts, errors, history, actual = self._scored[split]
        paths = [folder / f"{prefix}{FORECAST_PNG}", folder / f"{prefix}{ERROR_PNG}"]
        shown = {k: forecasts[k] for k in (table[0]["model"], best_linear(table))}
        starts = (self.panel.starts[split] if self.panel is not None else  # (windows,) rows
                  getattr(self.ranges, split)[0] + np.arange(len(actual)))
        times = window_times(self.series.times, starts, history.shape[1] + actual.shape[1])
        self.figures = [plot_forecasts(history, actual, shown, self.series.targets[0],
                                       paths[0], intervals=self.intervals, times=times),
                        plot_error_by_step(errors, paths[1], f"{self.config.name}: {split} "
                                                             f"error by horizon step")]
        return paths

    def _windows(self, split):
        """(inputs, future) of every window of ``split`` (stride 1)."""
        s = self.series_config
        self._warn_unseen(self.extras[split]["categories"], self.series.categorical,
                          f"the {split} rows")
        return window_arrays(self.splits[split], self.num_targets, s.lookback, s.horizon,
                             **self.extras[split])

    def _warn_unseen(self, categories, names, where):
        """One warning per categorical covariate (``names``) with values that the model's
        vocabulary does not have."""
        if categories is None:
            return
        vocabularies = self.model.task_config["categorical_vocabularies"]
        for j, (name, vocabulary) in enumerate(zip(names, vocabularies)):
            unseen = sorted(set(categories[:, j]) - set(vocabulary))
            if unseen:
                shown = ", ".join(map(repr, unseen[:5])) + (" ..." if len(unseen) > 5 else "")
                self.log(f"Warning: series.covariates {name!r} has {len(unseen)} value(s) in "
                         f"{where} not seen in training, mapped to the out-of-vocabulary "
                         f"bucket: {shown}")

    def _train_windows(self):
        """Training windows for the least-squares fits (baselines, highway): at most
        `MAX_LINEAR_WINDOWS`, evenly spread. Returns (history, future), raw."""
        return self._linear_windows("train", max(1, self.series_config.stride))

    def _linear_windows(self, split, stride=1):
        """(history, future) of ``split``, numbers only, raw, at most `MAX_LINEAR_WINDOWS`
        evenly spread."""
        s, t = self.series_config, self.num_targets
        # a panel's training starts already step by series.stride
        starts = None if self.panel is None else self.panel.starts[split]
        history, future = window_arrays(self.splits[split], t, s.lookback, s.horizon,
                                        stride=stride, starts=starts)
        keep = np.linspace(0, len(history) - 1, min(len(history), MAX_LINEAR_WINDOWS))
        keep = keep.astype(int)
        return history[keep], future[keep]

    def evaluate_windows(self, split):
        """The metrics table of a split: the model and every baseline on the same windows
        (`metrics_table`); the forecasts and errors by step are kept for `_plot`.

        Returns:
            the table's rows, the model first.
        """
        inputs, actual = self._windows(split)
        table, forecasts, errors = self._table(split, inputs, actual)
        self._scored = {split: (table, forecasts, errors, numeric_history(inputs), actual)}
        return table

    def _forecasts(self, inputs):
        """The model's output and {name: point forecast} of the model, its linear part and
        every baseline (`baseline_forecasts`, on each window's own axis where the model
        scales each window) on the same windows."""
        m = self.config.model
        name = f"{m.cell} {m.head}"
        output = self.model.predict_windows(inputs)
        forecasts = {name: self.model.point_forecast(output)}
        history = numeric_history(inputs)
        if m.highway:
            forecasts[f"{name} linear part"] = self.model.linear_part(history)
        train = self._train_windows()
        if self.series_config.scale != "window":
            forecasts.update(baseline_forecasts(train, history, self.mean, self.std,
                                                self.season, self.series_config.horizon))
            return output, forecasts
        t = self.num_targets
        train_scale, scale = [np.asarray(self.model.window_scales(h, every_column=True))
                              for h in (train[0], history)]
        found = baseline_forecasts((train[0] / train_scale, train[1] / train_scale[..., :t]),
                                   history / scale, self.mean, self.std, self.season,
                                   self.series_config.horizon)
        forecasts.update({key: value * scale[..., :t] for key, value in found.items()})
        return output, forecasts

    def _table(self, split, inputs, actual):
        if self.panel is not None:
            return self._panel_table(split, inputs, actual)
        output, forecasts = self._forecasts(inputs)
        self.intervals = self._intervals(output)
        name, t = next(iter(forecasts)), self.num_targets
        scale = seasonal_scale(self.splits["train"][:, :t], self.season)
        flat = [name for name, value in zip(self.series.targets, scale) if value == 0]
        if flat:
            self.log(f"Warning: MASE is undefined for {', '.join(map(repr, flat))}: seasonal "
                     f"naive (season {self.season}) forecasts the training rows exactly "
                     f"(a constant target?); it is left out of MASE.")
        distributions = {name: distribution_metrics(self.model.family, output, actual,
                                                    self.std[:t])} \
            if self.model.probabilistic else {}
        rows, errors = metrics_table(split, forecasts, actual, self.mean[:t], self.std[:t],
                                     scale, distributions)
        return rows, forecasts, errors

    def _intervals(self, output):
        """{share: (lower, upper)} of the model's central intervals (those it has)."""
        if not self.model.probabilistic:
            return {}
        found = {}
        for share in INTERVALS:
            bounds = self.model.quantiles_of(output, [(1 - share) / 2, (1 + share) / 2])
            lower, upper = bounds.values()
            if lower is not None and upper is not None:
                found[share] = (lower, upper)
        return found

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

    def evaluate(self, split):
        """``rnn-pipeline evaluate``: the split's metrics table against the baselines and
        each forecaster's scaled MSE by horizon step."""
        self.load_series()
        table = self.evaluate_windows(split)
        errors = self._scored[split][2]
        return {"split": split, "windows": table[0]["windows"], "table": table,
                "error_by_step": {name: [float(e) for e in error]
                                  for name, error in errors.items()}}

    def evaluation_lines(self, split, figures):
        return [f"{split}: {figures['windows']:,} windows", *self.summary(figures["table"])]

    def evaluation_plots(self, split, figures, folder):
        """The split's forecast and error-by-step plots (those of `finish`)."""
        if split not in getattr(self, "_scored", {}):
            self.evaluate(split)
        return self._plot(split, folder, prefix=f"{split}_")

    def make_serving_module(self, assets_dir):
        """The TF Serving module of the trained forecaster (see `ForecastServing`)."""
        from rnn_pipeline.tasks.forecast.serving import ForecastServing

        return ForecastServing(self.model)

    @staticmethod
    def summary(table):
        """The metrics table as aligned text lines (`table_lines`, or `panel_table_lines`
        for many series)."""
        return panel_table_lines(table) if "smape" in table[0] else table_lines(table)
