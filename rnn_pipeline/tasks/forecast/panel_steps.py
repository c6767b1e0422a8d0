"""The forecasting workflow's steps for many series in one model (`ForecastWorkflow`'s
mixin): loading a long-format file, the M4 table, and the ``forecast`` command's frame."""

import dataclasses

import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.forecast.series.calendar import epoch_seconds
from rnn_pipeline.tasks.forecast.series.metrics import error_by_step
from rnn_pipeline.tasks.forecast.series.panel_table import panel_metrics_table
from rnn_pipeline.tasks.forecast.series.reader import default_season
from rnn_pipeline.tasks.forecast.series.source import load_panel
from rnn_pipeline.tasks.forecast.series.stacked import stack_panel
from rnn_pipeline.tasks.forecast.series.windows import numeric_history, window_count


class PanelSteps:
    """What `ForecastWorkflow` does differently for many series, and the ``forecast``
    command's output for one series or many."""

    def _panel_line(self):
        """The log line of a panel: its series, those dropped as too short, the splits."""
        s = self.series_config
        named = ", ".join(f"{i!r} ({rows} rows)" for i, rows in self.dropped[:5])
        more = f" and {len(self.dropped) - 5:,} more" if len(self.dropped) > 5 else ""
        dropped = (f" ({len(self.dropped):,} too short for the splits dropped: "
                   f"{named}{more})") if self.dropped else ""
        return (f"Series: {len(self.panel.ids):,} series{dropped}, split at their own ends "
                f"({s.valid_windows} valid and {s.test_windows} test origin(s) each); "
                f"scale: {s.scale}")

    def _load_panel(self):
        """`load_series` for a long-format file of many series: the splits are each
        series' own (`stack_panel`), the windows explicit start rows, the scaler the
        identity where each window is scaled by itself (``series.scale = "window"``)."""
        s, panel = load_panel(self.config.series)
        self.series_config = s = dataclasses.replace(s, frequency=panel.frequency)
        self.config = dataclasses.replace(self.config, series=s)
        self.dropped = panel.dropped
        self.panel = stacked = stack_panel(panel, s.lookback, s.horizon, s.stride,
                                           s.valid_windows, s.test_windows)
        self.series = series = stacked.series
        seconds = epoch_seconds(series.times) if s.calendar else None
        self.splits = {name: series.values for name in stacked.ranges}
        self.extras = {name: {"categories": series.categories, "seconds": seconds,
                              "starts": stacked.starts[name],
                              "series_ids": stacked.window_ids(name) if s.id_embedding
                              else None} for name in stacked.ranges}
        categorical = series.categorical
        train_categories = stacked.rows_of(series.categories, "train") if categorical else None
        self.vocabularies = [] if train_categories is None else [
            sorted(set(train_categories[:, j])) for j in range(train_categories.shape[1])]
        columns = len(series.columns)
        if s.scale == "window":
            self.mean, self.std = np.zeros(columns, np.float32), np.ones(columns, np.float32)
        else:
            train = stacked.rows("train")
            self.mean = train.mean(axis=0)
            self.std = np.where(train.std(axis=0) > 0, train.std(axis=0), 1.0)
        self.num_targets = len(series.targets)
        self.season = s.season or default_season(series.frequency)

    def _window_count(self, split):
        s = self.series_config
        if self.panel is not None:
            return len(self.panel.starts[split])
        return window_count(len(self.splits[split]), s.lookback, s.horizon,
                            s.stride if split == "train" else 1)

    def _panel_table(self, split, inputs, actual):
        """`_table` over many series: the M4 scores (`panel_metrics_table`)."""
        output, forecasts = self._forecasts(inputs)
        self.intervals = self._intervals(output)
        s, t = self.series_config, self.num_targets
        by_target = [self.panel.insample(split, s.lookback, j) for j in range(t)]
        insamples = [by_target[j][w] for w in range(len(actual)) for j in range(t)]
        name = next(iter(forecasts))
        bounds = {name: self.intervals[0.95]} if 0.95 in self.intervals else {}
        rows = panel_metrics_table(split, forecasts, actual, insamples, self.season, bounds)
        window = np.asarray(self.model.window_scales(numeric_history(inputs)))
        errors = {key: error_by_step(forecast, actual, self.std[:t] * window)
                  for key, forecast in forecasts.items()}
        return rows, forecasts, errors

    def forecast_file(self, path):
        """Forecasts the ``horizon`` rows after the last ``lookback`` rows of a CSV with the
        run's columns; timestamps continue at the series' frequency. A run of many series
        reads a long-format file and forecasts after each series' last row.

        Returns:
            a pandas DataFrame: the id column (many series), the time column and one column
            per target (and, for a distribution, its lower, median and upper quantiles).
        """
        from rnn_pipeline.tasks.forecast.series.panel import read_panel
        from rnn_pipeline.tasks.forecast.series.reader import read_series

        s = self.series_config
        need = (s.lookback, f"the run's series.lookback = {s.lookback}")
        if s.id_column is None:
            series = read_series(path, s.time_column, s.targets, s.covariates, s.frequency,
                                 s.fill, argument="--input", need=need)
            return self._forecast_frame([series], None, path)
        panel = read_panel(path, s.id_column, s.time_column, s.targets, s.covariates,
                           s.frequency, s.fill, min_rows=s.lookback, argument="--input")
        if panel.frequency != s.frequency:
            raise pipeline_error("--input", f"must step at the run's frequency "
                                 f"{s.frequency!r}; its series step at "
                                 f"{panel.frequency!r}", str(path))
        unseen = sorted(set(panel.ids) - set(self.model.task_config["series_ids"]))
        if unseen and s.id_embedding:
            shown = ", ".join(map(repr, unseen[:5])) + (" ..." if len(unseen) > 5 else "")
            self.log(f"Note: {len(unseen)} series not seen in training get the embedding "
                     f"of an unknown series: {shown}")
        return self._forecast_frame(panel.series, panel.ids, path)

    def _forecast_frame(self, parts, ids, path):
        """The forecast after the last ``lookback`` rows of each `Series` of ``parts``, one
        prediction for all (``ids``: their series ids, or None for one series)."""
        import pandas as pd

        s = self.series_config
        history = np.stack([part.values[-s.lookback:] for part in parts])
        inputs = {"history": history}  # (series, lookback, columns)
        times = [pd.date_range(part.times[-1], periods=s.horizon + 1,
                               freq=s.frequency)[1:] for part in parts]
        if parts[0].categories is not None:
            last = np.stack([part.categories[-s.lookback:] for part in parts])
            self._warn_unseen(last.reshape(-1, last.shape[-1]), parts[0].categorical,
                              str(path))
            inputs["categories"] = last
        if s.calendar:
            inputs["time"] = np.stack([epoch_seconds(part.times[-s.lookback:].append(future))
                                       for part, future in zip(parts, times)])
        if s.id_embedding:
            inputs["series_id"] = np.asarray(ids, str)
        output = self.model.predict_windows(inputs if len(inputs) > 1 else history)
        forecast = self.model.point_forecast(output)  # (series, horizon, targets)
        found = {}
        if self.model.probabilistic:
            levels = self.model.task_config["quantiles"]
            median = min(levels, key=lambda q: abs(q - 0.5))
            found = self.model.quantiles_of(output, [levels[0], median, levels[-1]])
        frames = []
        for k, future in enumerate(times):
            frame = pd.DataFrame(forecast[k], columns=s.targets)
            for target_index, target in enumerate(s.targets):
                for label, values in zip(("lower", "median", "upper"), found.values()):
                    frame[f"{target}_{label}"] = values[k, :, target_index]
            frame.insert(0, s.time_column, future)
            if ids is not None:
                frame.insert(0, s.id_column, ids[k])
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)
