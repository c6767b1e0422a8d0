"""The metrics table of a split: the model against every baseline fitted on the same
training windows (`baseline_forecasts`, `metrics_table`), and its text lines."""

from rnn_pipeline.tasks.forecast.series.baselines import BASELINES
from rnn_pipeline.tasks.forecast.series.metrics import INTERVALS, error_by_step, forecast_metrics

# Every metrics table, in this order after the model (and its linear part).
BASELINE_NAMES = ("repeat", "seasonal_naive", "mean", "linear", "nlinear", "dlinear")
LINEAR_BASELINES = ("linear", "nlinear", "dlinear")


def baseline_forecasts(train, history, mean, std, season, horizon):
    """Every baseline (`BASELINE_NAMES`; seasonal naive only when ``season`` fits in the
    lookback) fitted on the training windows and forecasting ``history``, on scaled values
    (the linear fit is then fair to every column).

    Args:
        train: (history, future) training windows, raw: (windows, lookback, inputs) and
            (windows, horizon, targets).
        history: (windows, lookback, inputs) raw, numbers only.
        mean, std: per-input-column statistics of the training rows (targets first).
        season: season length in rows.
        horizon: rows forecast.

    Returns:
        {name: (windows, horizon, targets) raw}.
    """
    train_history, train_future = train
    t = train_future.shape[-1]
    scaled = (history - mean) / std
    forecasts = {}
    for name in BASELINE_NAMES:
        if name == "seasonal_naive" and season > history.shape[1]:
            continue
        baseline = BASELINES.get(name)(season) if name == "seasonal_naive" \
            else BASELINES.get(name)()
        baseline.fit((train_history - mean) / std, (train_future - mean[:t]) / std[:t])
        out = baseline.predict(scaled, horizon, t)
        forecasts[name] = out * std[:t] + mean[:t]
    return forecasts


def metrics_table(split, forecasts, actual, mean, std, scale, distributions=None):
    """The metrics of every forecaster of one split on the same windows.

    Args:
        split: the split's name, written in each row.
        forecasts: {name: (windows, horizon, targets) raw}, in table order.
        actual: (windows, horizon, targets) raw.
        mean, std: the targets' training statistics.
        scale: MASE's per-target denominator (`seasonal_scale`).
        distributions: {name: its distribution metrics (CRPS, coverage)}; a forecaster
            without is a point forecast: its CRPS is its absolute error, it has no interval.

    Returns:
        (rows, {name: scaled MSE by horizon step}).
    """
    distributions = distributions or {}
    rows, errors = [], {}
    for key, forecast in forecasts.items():
        metrics = forecast_metrics(forecast, actual, mean, std, scale)
        if key in distributions:
            metrics.update(distributions[key])
        else:
            metrics.update(crps=metrics["mae"], **{f"coverage_{round(100 * share)}": None
                                                   for share in INTERVALS})
        rows.append({"model": key, "split": split, "windows": len(actual), **metrics})
        errors[key] = error_by_step(forecast, actual, std)
    return rows, errors


def best_linear(table):
    """The name of the linear baseline with the lowest MSE (OWA in a table of many series)
    in ``table``."""
    by_name = {row["model"]: row for row in table}
    key = "mse" if "mse" in table[0] else "owa"
    return min((k for k in LINEAR_BASELINES if k in by_name), key=lambda k: by_name[k][key])


def table_lines(table):
    """The metrics table as aligned text lines (coverage columns for a distribution)."""
    shares = [f"coverage_{round(100 * share)}" for share in INTERVALS]
    coverage = [key for key in shares if any(row.get(key) is not None for row in table)]
    lines = [f"{'model':<26}{'MSE':>8}{'MAE':>8}{'CRPS':>8}{'MAE (orig)':>12}"
             f"{'RMSE (orig)':>13}{'MASE':>10}"
             + "".join(f"{key.split('_')[1] + '% in':>9}" for key in coverage)]
    for row in table:
        mase = f"{row['mase']:10.4f}" if row["mase"] is not None else f"{'undefined':>10}"
        cells = "".join(f"{row[key]:9.1%}" if row.get(key) is not None else f"{'-':>9}"
                        for key in coverage)
        lines.append(f"{row['model']:<26}{row['mse']:8.4f}{row['mae']:8.4f}"
                     f"{row['crps']:8.4f}{row['mae_original']:12.4f}"
                     f"{row['rmse_original']:13.4f}{mase}{cells}")
    return lines
