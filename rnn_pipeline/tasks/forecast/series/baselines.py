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
        return history[:, seasonal_sources(lookback, horizon, self.period), :num_targets]


@BASELINES.register("mean")
class WindowMean:
    """The mean of the history window."""

    def fit(self, history, future):
        return self

    def predict(self, history, horizon, num_targets):
        mean = history[:, :, :num_targets].mean(axis=1, keepdims=True)
        return np.repeat(mean, horizon, axis=1)


def channel_rows(values):
    """(windows, steps, channels) -> (windows * channels, steps): one row per channel, so one
    map serves every channel (channel-independent, shared weights)."""
    return values.transpose(0, 2, 1).reshape(-1, values.shape[1])


# Penalties the highway chooses from on validation (relative, as in `ridge_fit`).
RIDGES = tuple(float(r) for r in 10.0 ** np.arange(-4.0, 4.5, 0.5))


def ridge_fit(features, targets, ridge, prior=None):
    """Least squares with a bias column and an L2 penalty of ``ridge`` times the mean
    diagonal of X^T X (the bias included), pulling the weights toward ``prior``.

    Args:
        features: (rows, inputs); targets: (rows, outputs).
        prior: (inputs + 1, outputs) weights that a large penalty gives; None = zeros.

    Returns:
        (inputs + 1, outputs) float64: the weights, the bias last.
    """
    return ridge_solve(*moments(features, targets), ridge, prior)


def moments(features, targets):
    """(X^T X, X^T Y) of the features with a bias column: what `ridge_solve` needs, once
    for any number of penalties."""
    x = np.concatenate([features, np.ones([len(features), 1])], axis=1).astype(np.float64)
    return x.T @ x, x.T @ targets.astype(np.float64)


def ridge_solve(gram, moment, ridge, prior=None):
    """`ridge_fit` from its `moments`."""
    penalty = ridge * np.trace(gram) / len(gram)
    if prior is not None:
        moment = moment + penalty * prior
    return np.linalg.solve(gram + penalty * np.eye(len(gram)), moment)


def seasonal_sources(lookback, horizon, season):
    """Seasonal naive's lookback step for each horizon step h: ``lookback - season +
    h % season``. (horizon,) int."""
    return lookback - season + np.arange(horizon) % season


def seasonal_prior(lookback, horizon, season, inputs=None):
    """The weights of seasonal naive as a linear map (`seasonal_sources`): (inputs + 1,
    horizon), zero beyond the lookback's rows (extra inputs and the bias).

    Args:
        inputs: feature count (at least ``lookback``; the lookback comes first).
    """
    prior = np.zeros([(inputs or lookback) + 1, horizon])
    prior[seasonal_sources(lookback, horizon, season), np.arange(horizon)] = 1.0
    return prior


def highway_priors(lookback, horizon, season=None):
    """What the highway's ridge fit may pull toward, in its units (lookback, the window
    statistic, the bias): {"zero": None}, and {"seasonal naive": weights} when ``season``
    fits in the lookback."""
    priors = {"zero": None}
    if season and season <= lookback:
        priors["seasonal naive"] = seasonal_prior(lookback, horizon, season, lookback + 1)
    return priors


def moving_average(rows, kernel):
    """DLinear's trend: a centred moving average over ``kernel`` steps, each end padded
    with its own value. (rows, steps) -> (rows, steps)."""
    pad = (kernel - 1) // 2
    padded = np.concatenate([np.repeat(rows[:, :1], pad, axis=1), rows,
                             np.repeat(rows[:, -1:], kernel - 1 - pad, axis=1)], axis=1)
    sums = np.cumsum(np.pad(padded, ((0, 0), (1, 0))), axis=1, dtype=np.float64)
    return (sums[:, kernel:] - sums[:, :-kernel]) / kernel


class _ChannelLinear:
    """One linear map from the lookback to the horizon, shared by every target channel,
    fitted by ridge-regularised least squares on the training windows: the exact optimum of
    the MSE that Zeng et al. (2023) train their linear models on by gradient descent.

    Subclasses choose the inputs (`features`) and the level added back (`level`).

    Args:
        ridge: L2 penalty (relative to the mean diagonal of X^T X).
    """

    def __init__(self, ridge=1e-3):
        self.ridge = ridge
        self.weights = None

    def level(self, rows):  # (rows, lookback) -> (rows, 1)
        return np.zeros([len(rows), 1])

    def features(self, rows):  # (rows, lookback), level removed -> (rows, inputs)
        return rows

    def fit(self, history, future):
        rows = channel_rows(history[:, :, :future.shape[2]])
        level = self.level(rows)
        self.weights = ridge_fit(self.features(rows - level), channel_rows(future) - level,
                                 self.ridge)  # (inputs + 1, horizon)
        return self

    def predict(self, history, horizon, num_targets):
        rows = channel_rows(history[:, :, :num_targets])
        level = self.level(rows)
        out = self.features(rows - level) @ self.weights[:-1] + self.weights[-1] + level
        out = out.reshape(len(history), num_targets, horizon)
        return out.transpose(0, 2, 1).astype(np.float32)  # (windows, horizon, targets)


@BASELINES.register("linear")
class Linear(_ChannelLinear):
    """Zeng et al.'s "Linear": the window's values through one linear map."""


@BASELINES.register("nlinear")
class NLinear(_ChannelLinear):
    """NLinear: values relative to the window's last value through one linear map, the last
    value added back (robust to a level shift between training and test)."""

    def level(self, rows):
        return rows[:, -1:]


@BASELINES.register("dlinear")
class DLinear(_ChannelLinear):
    """DLinear: the window split into a moving-average trend and the remainder, each through
    its own linear map, the two summed.

    Args:
        kernel: moving-average length (25, as in the paper).
        ridge: L2 penalty.
    """

    def __init__(self, kernel=25, ridge=1e-3):
        super().__init__(ridge)
        if kernel < 1:
            raise pipeline_error("kernel", "must be at least 1", kernel)
        self.kernel = kernel

    def features(self, rows):
        trend = moving_average(rows, self.kernel)
        return np.concatenate([trend, rows - trend], axis=1)  # (rows, 2 * lookback)
