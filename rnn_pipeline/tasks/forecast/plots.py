"""PNG plots of a forecasting run: forecasts against actuals, and error by horizon step."""

import numpy as np
from matplotlib.figure import Figure


def plot_forecasts(history, actual, forecasts, target, path, windows=4, intervals=None):
    """A few test windows of one target: the end of the history, the actual future and
    each forecast, the first one's central intervals shaded.

    Args:
        history: (windows, lookback, columns) raw values.
        actual: (windows, horizon, targets) raw values.
        forecasts: {name: (windows, horizon, targets)}.
        target: the plotted target column's name (column 0).
        path: PNG file.
        windows: how many evenly spaced windows to draw.
        intervals: {share: (lower, upper)} of the first forecast, each
            (windows, horizon, targets); widest drawn palest.
    """
    intervals = intervals or {}
    picks = np.linspace(0, len(actual) - 1, windows).astype(int)
    horizon = actual.shape[1]
    shown = min(history.shape[1], 2 * horizon)
    fig = Figure(figsize=(10, 2.6 * windows))
    axes = fig.subplots(windows, 1, squeeze=False)
    for ax, i in zip(axes[:, 0], picks):
        past = np.arange(-shown, 0)
        future = np.arange(horizon)
        ax.plot(past, history[i, -shown:, 0], color="grey", label="history")
        ax.plot(future, actual[i, :, 0], color="black", label="actual")
        first = next(iter(forecasts), None)
        for share, (lower, upper) in sorted(intervals.items(), reverse=True):
            ax.fill_between(future, lower[i, :, 0], upper[i, :, 0], color="tab:blue",
                            alpha=0.15 if share > 0.85 else 0.3, linewidth=0,
                            label=f"{first}: {share:.0%} interval")
        for name, values in forecasts.items():
            ax.plot(future, values[i, :, 0], label=name)
        ax.set(title=f"test window {i}", ylabel=target)
        ax.grid(True, alpha=0.3)
    axes[0, 0].legend(loc="upper left", fontsize="small", ncol=3)
    axes[-1, 0].set_xlabel("steps from the forecast origin")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def plot_error_by_step(errors, path, title):
    """Scaled MSE per horizon step for each forecaster.

    Args:
        errors: {name: (horizon,) array}.
        path: PNG file.
        title: figure title.
    """
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    for name, values in errors.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set(xlabel="horizon step", ylabel="MSE (scaled)", title=title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
