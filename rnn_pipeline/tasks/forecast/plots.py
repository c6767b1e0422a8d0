"""PNG plots of a forecasting run: forecasts against actuals, and error by horizon step."""

import numpy as np

from rnn_pipeline.runs.figures import (LINESTYLES, MARKERS, date_axis, integer_x,
                                       legend_outside, log_scale_if_positive, new_figure,
                                       save)
from rnn_pipeline.runs.fonts import fonts_for


def window_times(times, starts, length):
    """The timestamps of each window's rows, or None for a series without them.

    Args:
        times: the series' timestamps, one per row (a `pd.DatetimeIndex`), or None.
        starts: (windows,) the row where each window's history starts.
        length: rows per window, lookback + horizon.

    Returns:
        (windows, length) datetime64 values, or None.
    """
    if times is None:
        return None
    rows = np.asarray(starts, np.int64)[:, None] + np.arange(length)  # (windows, length)
    return np.asarray(times, "datetime64[ns]")[rows]


def plot_forecasts(history, actual, forecasts, target, path, windows=4, intervals=None,
                   times=None):
    """A few test windows of one target: the end of the history, the actual future and
    each forecast (drawn from the last history point on), the first one's central
    intervals shaded; dates on the x-axis when ``times`` are given, else steps from the
    forecast origin. Returns the `Figure`.

    Args:
        history: (windows, lookback, columns) raw values.
        actual: (windows, horizon, targets) raw values.
        forecasts: {name: (windows, horizon, targets)}.
        target: the plotted target column's name (column 0).
        path: PNG file.
        windows: how many evenly spaced windows to draw (at most).
        intervals: {share: (lower, upper)} of the first forecast, each
            (windows, horizon, targets); widest drawn palest.
        times: (windows, lookback + horizon) timestamps of each window's rows
            (`window_times`), or None.
    """
    with fonts_for([target, *forecasts]):
        picks = np.unique(np.linspace(0, len(actual) - 1, windows).astype(int))  # no repeats
        fig = new_figure((11, 2.6 * len(picks)))
        axes = fig.subplots(len(picks), 1, squeeze=False)[:, 0]
        for ax, i in zip(axes, picks):
            _draw_window(ax, i, history, actual, forecasts, intervals or {}, times)
            ax.set(title=f"test window {i}", ylabel=target)
        legend_outside(axes[0])
        axes[-1].set_xlabel("date" if times is not None else
                            "steps from the forecast origin (0: the last observed row)")
        return save(fig, path, dpi=90)


def _draw_window(ax, i, history, actual, forecasts, intervals, times):
    """One window of `plot_forecasts` on ``ax``: every future line starts at the last
    history point (the forecast origin), so no gap opens between them."""
    lookback, horizon = history.shape[1], actual.shape[1]
    shown = min(lookback, 2 * horizon)
    x = np.arange(1 - lookback, horizon + 1) if times is None else times[i]
    past, future = x[lookback - shown:lookback], x[lookback - 1:]  # future[0]: the origin
    origin = history[i, -1, 0]

    def joined(values):  # (horizon,) -> (horizon + 1,) from the origin
        return np.concatenate([[origin], values])

    ax.plot(past, history[i, -shown:, 0], color="grey", label="history")
    ax.plot(future, joined(actual[i, :, 0]), color="black", label="actual")
    first = next(iter(forecasts), None)
    for share, (lower, upper) in sorted(intervals.items(), reverse=True):
        ax.fill_between(future, joined(lower[i, :, 0]), joined(upper[i, :, 0]),
                        color="tab:blue", alpha=0.15 if share > 0.85 else 0.3, linewidth=0,
                        label=f"{first}: {share:.0%} interval")
    for name, values in forecasts.items():
        ax.plot(future, joined(values[i, :, 0]), label=name)
    ax.grid(True, alpha=0.3)
    if times is not None:
        date_axis(ax, x)


def plot_error_by_step(errors, path, title):
    """Scaled MSE per horizon step for each forecaster, on a log scale when every error is
    above 0: forecasters differ by factors (the mean baseline's error is many times the
    linear ones'), which a linear scale squashes into one line at the bottom. Each line
    has its own hollow marker and dash, so lines that coincide (a model and its linear
    part) both stay visible. Returns the `Figure`.

    Args:
        errors: {name: (horizon,) array}.
        path: PNG file.
        title: figure title.
    """
    with fonts_for([title, *errors]):
        fig = new_figure((9, 4))
        ax = fig.subplots()
        for k, (name, values) in enumerate(errors.items()):
            ax.plot(np.arange(1, len(values) + 1), values, label=name,
                    marker=MARKERS[k % len(MARKERS)], markersize=5, markerfacecolor="none",
                    markevery=max(1, len(values) // 12),
                    linestyle=LINESTYLES[k % len(LINESTYLES)])
        log = log_scale_if_positive(ax, list(errors.values()))
        ax.set(xlabel="horizon step", title=title,
               ylabel="MSE (scaled, log scale)" if log else "MSE (scaled)")
        ax.grid(True, which="both" if log else "major", alpha=0.3)
        integer_x(ax)
        legend_outside(ax)
        return save(fig, path)
