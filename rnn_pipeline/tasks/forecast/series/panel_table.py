"""The metrics table of many series, as the M4 competition scores them: sMAPE, MASE
(scaled by each series' in-sample seasonal naive), OWA relative to Naive2 and, for a 95%
interval, MSIS and its coverage; one row per forecaster, on the same windows."""

import numpy as np

from rnn_pipeline.tasks.forecast.series.m4_metrics import m4_summary, naive2_forecasts


def series_rows(values):
    """(windows, horizon, targets) -> (windows * targets, horizon): one M4 series per
    window and target, window-major (the order of the in-sample list)."""
    return np.asarray(values, np.float64).transpose(0, 2, 1).reshape(-1, values.shape[1])


def panel_metrics_table(split, forecasts, actual, insamples, season, intervals=None):
    """Args:
        split: the split's name, written in each row.
        forecasts: {name: (windows, horizon, targets) raw}, in table order.
        actual: (windows, horizon, targets) raw.
        insamples: one 1-D array per window and target (window-major): what the window
            saw of that target.
        season: season length in rows (MASE, Naive2).
        intervals: {name: (lower, upper)} 95% bounds (windows, horizon, targets).

    Returns:
        the rows: model, split, windows, smape, mase, owa, msis, coverage_95; Naive2's row
        after the forecasters' (OWA's reference: 1 by definition).
    """
    intervals = intervals or {}
    truth = series_rows(actual)
    reference = naive2_forecasts(insamples, truth.shape[1], season)
    rows = []
    for name, forecast in [*forecasts.items(), ("naive2", None)]:
        flat = reference if forecast is None else series_rows(forecast)
        bounds = [series_rows(b) for b in intervals[name]] if name in intervals else [None, None]
        scores = m4_summary(flat, truth, insamples, season, *bounds, naive2_forecast=reference)
        rows.append({"model": name, "split": split, "windows": len(actual),
                     "smape": scores["smape"], "mase": scores["mase"], "owa": scores["owa"],
                     "msis": scores.get("msis"), "coverage_95": scores.get("coverage_95")})
    return rows


def panel_table_lines(table):
    """The table as aligned text lines (MSIS and coverage where a row has them)."""
    intervals = any(row["msis"] is not None for row in table)
    head = f"{'model':<26}{'sMAPE':>8}{'MASE':>8}{'OWA':>8}"
    lines = [head + (f"{'MSIS':>9}{'95% in':>9}" if intervals else "")]
    for row in table:
        line = f"{row['model']:<26}{row['smape']:8.3f}{row['mase']:8.3f}{row['owa']:8.3f}"
        if intervals:
            line += (f"{row['msis']:9.3f}{row['coverage_95']:9.1%}" if row["msis"] is not None
                     else f"{'-':>9}{'-':>9}")
        lines.append(line)
    return lines
