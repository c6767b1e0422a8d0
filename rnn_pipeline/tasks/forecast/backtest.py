"""Rolling-origin evaluation (``rnn-pipeline backtest``): the forecast from each of the last
``origins`` forecast origins of every series, by a model fitted once or refitted at each
origin, and every baseline on exactly the same windows: the linear ones, Naive2 and, with
the ``[stats]`` extra, statsforecast's models fitted on the history each window sees."""

import dataclasses

import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.forecast.series.m4_metrics import mase, naive2_forecasts, owa, smape
from rnn_pipeline.tasks.forecast.series.panel_table import series_rows
from rnn_pipeline.tasks.forecast.series.statistical import (availability, models_for,
                                                            statistical_forecasts)
from rnn_pipeline.tasks.forecast.series.windows import window_arrays


@dataclasses.dataclass
class Layout:
    """A workflow's rows as series end to end (one series is a panel of one).

    Args:
        values: (rows, columns), targets first.
        offsets, lengths: each series' first row and row count.
        ids: the series ids ("series" for one series).
        first_unseen: each series' first row that no training window forecast.
        extras: the per-row window extras (categories, seconds).
        times: the rows' timestamps.
    """

    values: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    ids: list
    first_unseen: np.ndarray
    extras: dict
    times: object


def layout(workflow):
    """The `Layout` of a workflow whose series are loaded (`load_series`)."""
    s = workflow.series_config
    extras = {key: workflow.extras["train"].get(key) for key in ("categories", "seconds")}
    if workflow.panel is not None:
        panel = workflow.panel
        lengths = np.diff(np.append(panel.offsets, len(panel.series.values)))
        unseen = np.asarray([start + s.lookback for start, _ in panel.ranges["valid"]])
        return Layout(panel.series.values, panel.offsets, lengths, list(panel.ids), unseen,
                      extras, panel.series.times)
    series = workflow.series
    # one series: the splits' rows are slices, so its extras are whole-series arrays again
    seconds = None
    if s.calendar:
        from rnn_pipeline.tasks.forecast.series.calendar import epoch_seconds
        seconds = epoch_seconds(series.times)
    valid_start = workflow.ranges.valid[0] + s.lookback
    return Layout(series.values, np.zeros(1, np.int64), np.asarray([len(series.values)]),
                  ["series"], np.asarray([valid_start]),
                  {"categories": series.categories, "seconds": seconds}, series.times)


def origin_table(lengths, count, step, horizon):
    """The forecast origins: for each series of ``lengths`` rows, the ``count`` origins
    ``n - horizon - (count - 1 - i) * step`` (i = 0 .. count - 1), the last one forecasting
    its last rows.

    Returns:
        (series (windows,), origin row within its series (windows,), rank i (windows,)),
        rank-major (every series' first origin, then every series' second, ...).
    """
    ranks = np.repeat(np.arange(count), len(lengths))
    series = np.tile(np.arange(len(lengths)), count)
    origins = np.asarray(lengths)[series] - horizon - (count - 1 - ranks) * step
    return series, origins, ranks


def check_origins(data, count, step, horizon, lookback, fitted_once):
    """Every origin leaves a lookback of history and, for a model fitted once, forecasts
    rows that no training window forecast: otherwise one error naming --origins."""
    series, origins, _ = origin_table(data.lengths, count, step, horizon)
    limit = data.first_unseen if fitted_once else np.full(len(data.lengths), lookback)
    bad = np.flatnonzero(origins < limit[series])
    if not bad.size:
        return
    k = series[bad[0]]
    room = max(0, (data.lengths[k] - horizon - limit[k]) // step + 1)
    why = (f"the model was trained on forecasts of its rows before row {limit[k]}; --refit "
           f"fits one before each origin") if fitted_once else \
        f"each origin needs series.lookback = {lookback} rows before it"
    raise pipeline_error("--origins", f"must be at most {room} at --step {step} for series "
                         f"{data.ids[k]!r} of {data.lengths[k]} rows ({why})", count)


def window_inputs(workflow, data, series, origins):
    """(inputs, actual) of the windows whose forecast starts at ``origins`` of ``series``
    (the model's input form: an array, or a dict with the extras)."""
    s = workflow.series_config
    starts = data.offsets[series] + origins - s.lookback
    ids = np.asarray(data.ids, str)[series] if s.id_embedding else None
    return window_arrays(data.values, workflow.num_targets, s.lookback, s.horizon,
                         starts=starts, series_ids=ids, **data.extras)


def histories(data, series, origins, num_targets):
    """What each window saw of each target, window-major: a list of 1-D arrays."""
    return [data.values[data.offsets[k]:data.offsets[k] + o, j]
            for k, o in zip(series, origins) for j in range(num_targets)]


def statistical(seen, horizon, season, num_windows, num_targets, log):
    """statsforecast's point forecasts on the windows' histories, {name: (windows,
    horizon, targets)}, and the reason they were skipped (or None)."""
    ready, reason = availability()
    if not ready:
        log(f"Statistical baselines skipped: {reason}")
        return {}, reason
    found = statistical_forecasts(seen, horizon, season, names=models_for(season),
                                  progress=log)
    return {name: np.asarray(parts["mean"]).reshape(num_windows, num_targets, horizon)
            .transpose(0, 2, 1) for name, parts in found.items()}, None


def window_scores(forecasts, actual, seen, season):
    """{name: (smape (windows,), mase (windows,))}, each the mean over the targets; Naive2
    (M4's reference for OWA) is added as "naive2"."""
    windows, horizon, targets = actual.shape
    flat = series_rows(actual)
    scores = {}
    reference = naive2_forecasts(seen, horizon, season)
    for name, forecast in [*forecasts.items(), ("naive2", None)]:
        rows = reference if forecast is None else series_rows(forecast)
        scores[name] = (smape(rows, flat).reshape(windows, targets).mean(axis=1),
                        mase(rows, flat, seen, season).reshape(windows, targets).mean(axis=1))
    return scores


def summary_rows(scores):
    """One row per forecaster: mean sMAPE and MASE over every window, and OWA against
    Naive2 on the same windows."""
    base_smape, base_mase = scores["naive2"]
    return [{"model": name, "windows": len(values[0]), "smape": float(np.nanmean(values[0])),
             "mase": float(np.nanmean(values[1])),
             "owa": owa(values[0], values[1], base_smape, base_mase)}
            for name, values in scores.items()]


def score_origins(fitted, count, step, refitted=None, log=print):
    """The backtest of a trained forecasting workflow over its whole series.

    Args:
        fitted: a `ForecastWorkflow` with its model; its series are (re)loaded whole.
        count: origins per series; step: rows between them.
        refitted: None (``fitted`` forecasts from every origin), or rank -> a workflow
            fitted only on the rows before that rank's origins (``series.drop_last``).
        log: callable for progress lines.

    Returns:
        {"windows": one row per forecaster and window, "summary": one row per forecaster,
        "statistical_skipped": None or why statsforecast's models are missing}.
    """
    s = fitted.series_config
    fitted.config = dataclasses.replace(
        fitted.config, series=dataclasses.replace(fitted.config.series, drop_last=0))
    fitted.load_series()
    data = layout(fitted)
    check_origins(data, count, step, s.horizon, s.lookback, fitted_once=refitted is None)
    series, origins, ranks = origin_table(data.lengths, count, step, s.horizon)
    inputs, actual = window_inputs(fitted, data, series, origins)
    if refitted is None:
        forecasts = fitted._forecasts(inputs)[1]
    else:
        forecasts = {}
        for rank in range(count):
            chosen = np.flatnonzero(ranks == rank)
            part = window_inputs(fitted, data, series[chosen], origins[chosen])[0]
            for name, value in refitted(rank)._forecasts(part)[1].items():
                forecasts.setdefault(name, np.zeros(actual.shape, np.float64))[chosen] = value
    t = fitted.num_targets
    seen = histories(data, series, origins, t)
    found, skipped = statistical(seen, s.horizon, fitted.season, len(actual), t, log)
    scores = window_scores({**forecasts, **found}, actual, seen, fitted.season)
    windows = [{"model": name, "series": data.ids[k], "origin": str(data.times[
                data.offsets[k] + o]), "origin_row": int(o), "rank": int(r) + 1,
                "smape": float(a), "mase": float(b)}
               for name, (sm, ms) in scores.items()
               for k, o, r, a, b in zip(series, origins, ranks, sm, ms)]
    return {"windows": windows, "summary": summary_rows(scores),
            "statistical_skipped": skipped}
