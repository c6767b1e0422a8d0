"""Forecasting baselines on the same windows as the networks (one registry), in NumPy.

Each maps history (windows, lookback, columns) to a forecast (windows, horizon, targets);
the targets are the leading columns.
"""

import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.registry import Registry

BASELINES = Registry("baseline")


@BASELINES.register("repeat")
class Repeat:
    """The last observed value, repeated over the horizon."""

    def fit(self, history, future):
        return self

    def predict(self, history, horizon, num_targets):
        last = history[:, -1:, :num_targets]  # (windows, 1, targets)
        return np.repeat(last, horizon, axis=1)


@BASELINES.register("seasonal_naive")
class SeasonalNaive:
    """The value one season earlier: y[t + h] = y[t + h - period * k] for the smallest k >= 1.

    Args:
        period: season length in rows (24 for hourly data with a daily cycle).
    """

    def __init__(self, period):
        if period < 1:
            raise pipeline_error("series.season", "must be at least 1", period)
        self.period = period

    def fit(self, history, future):
        return self

    def predict(self, history, horizon, num_targets):
        lookback = history.shape[1]
        if self.period > lookback:
            raise pipeline_error("series.season", f"must be at most the lookback ({lookback})",
                                 self.period)
        steps = np.arange(horizon)
        source = lookback - self.period + steps % self.period  # (horizon,)
        return history[:, source, :num_targets]


@BASELINES.register("mean")
class WindowMean:
    """The mean of the history window."""

    def fit(self, history, future):
        return self

    def predict(self, history, horizon, num_targets):
        mean = history[:, :, :num_targets].mean(axis=1, keepdims=True)
        return np.repeat(mean, horizon, axis=1)


@BASELINES.register("linear")
class Linear:
    """One linear map from the lookback to the horizon, shared by all target channels, on
    values taken relative to the window's last value (like NLinear, Zeng et al. 2023),
    fitted by ridge-regularised least squares on the training windows.

    Args:
        ridge: L2 penalty (relative to the mean diagonal of X^T X).
    """

    def __init__(self, ridge=1e-3):
        self.ridge = ridge
        self.weights = None

    @staticmethod
    def _rows(history, num_targets):
        values = history[:, :, :num_targets]  # (windows, lookback, targets)
        last = values[:, -1:, :]
        rows = (values - last).transpose(0, 2, 1).reshape(-1, values.shape[1])
        return rows, last  # (windows * targets, lookback)

    def fit(self, history, future):
        num_targets = future.shape[2]
        x, last = self._rows(history, num_targets)
        y = (future - last).transpose(0, 2, 1).reshape(-1, future.shape[1])
        x = np.concatenate([x, np.ones([len(x), 1], x.dtype)], axis=1).astype(np.float64)
        gram = x.T @ x
        gram += self.ridge * np.trace(gram) / len(gram) * np.eye(len(gram))
        self.weights = np.linalg.solve(gram, x.T @ y)  # (lookback + 1, horizon)
        return self

    def predict(self, history, horizon, num_targets):
        x, last = self._rows(history, num_targets)
        x = np.concatenate([x, np.ones([len(x), 1], x.dtype)], axis=1)
        out = (x @ self.weights).reshape(len(history), num_targets, horizon)
        return (out.transpose(0, 2, 1) + last).astype(np.float32)
