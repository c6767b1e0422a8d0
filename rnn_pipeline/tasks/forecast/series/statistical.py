"""Statistical forecasters (statsforecast) on exactly the history each forecast window sees.

The backtest and metrics tables compare the networks with classical models fitted per
window: window i's model sees ``histories[i]`` (every row up to that window's origin) and
forecasts the next ``horizon`` rows. statsforecast is the optional ``stats`` extra
(``pip install 'rnn-pipeline[stats]'``); callers check `availability()` first.

Models by season m (`models_for`):

- m <= 24: ``sf_seasonal_naive`` (SeasonalNaive), ``auto_ets`` (AutoETS), ``auto_arima``
  (AutoARIMA), ``auto_theta`` (AutoTheta), all with ``season_length=m``.
- m > 24: ``sf_seasonal_naive``, ``auto_theta`` and ``mstl`` (MSTL with
  ``season_length=[m]`` and its default trend forecaster ``AutoETS(model='ZZN')``). MSTL
  replaces both AutoETS (its seasonal states stop at 24) and AutoARIMA (a seasonal ARIMA
  with m > 24 lags is impractically slow). ``mstl`` may also be named for m <= 24; naming
  ``auto_ets`` or ``auto_arima`` for m > 24 is an error.

AutoARIMA runs with ``approximation=None``: R's auto.arima rule, which searches orders by
conditional sums of squares when the series has more than 150 points or m > 12 and refits
the chosen order by maximum likelihood. statsforecast's class default (exact likelihood
throughout) took about 35 s per 960-point hourly series against about 2 s with the rule.

Failures: a model that raises on a window (a history shorter than its season, too few
points for ETS) does not stop the table. statsforecast's ``fallback_model`` replaces it, but
statsforecast does not say which windows fell back, so the fallback is its ``NaNModel`` as a
marker: every window whose mean or interval is not finite (raised, or NaN output) takes
statsforecast's ``Naive`` forecast and interval, computed in the same call, and is flagged
in ``"fallback"`` and counted in the progress line. statsforecast's own warnings (e.g.
ARIMA's "possible convergence problem", one per window) are silenced during the call.

Cost (statsforecast 2.1.1, a shared 2-core machine): nothing is compiled on first use (the
models are C++, not numba); the first call pays only the imports, about 2 s (statsforecast,
then statsforecast.models with statsmodels). 414 synthetic hourly series of 960 points,
horizon 48, season 24, the four models of m <= 24: about 1,770 CPU-seconds (4.3 s a series,
mostly AutoARIMA), 1,690 s wall with n_jobs=2 on the contended machine.
"""

import importlib
import time
import warnings

import numpy as np

from rnn_pipeline.errors import pipeline_error

STATISTICAL_MODELS = ("sf_seasonal_naive", "auto_ets", "auto_arima", "auto_theta", "mstl")
MAX_ETS_SEASON = 24  # statsforecast's ETS keeps at most 24 seasonal states
MISSING = "statsforecast is not installed: pip install 'rnn-pipeline[stats]'"
_FALLBACK = "_naive_fallback"  # the alias of the hidden Naive the failed windows take


def availability():
    """Whether statsforecast can be imported.

    Returns:
        (True, None), or (False, a sentence a table can print as the reason it skipped the
        statistical models).
    """
    try:
        importlib.import_module("statsforecast")
    except ImportError:
        return False, MISSING
    return True, None


def models_for(season):
    """The model names used for a season length (see the module docstring).

    Args:
        season: rows per season (24 for hourly data with a daily cycle); at least 1.
    """
    _check_int("season", season, 1)
    if season <= MAX_ETS_SEASON:
        return ["sf_seasonal_naive", "auto_ets", "auto_arima", "auto_theta"]
    return ["sf_seasonal_naive", "auto_theta", "mstl"]


def statistical_forecasts(histories, horizon, season, level=95, names=None, n_jobs=1,
                          progress=None):
    """Fits each named model on each window's history and forecasts ``horizon`` steps.

    Args:
        histories: one 1-D array of finite values per window, the window's whole history
            (lengths may differ); the order is kept in the results.
        horizon: steps to forecast after each history.
        season: rows per season (the models' ``season_length``).
        level: the central prediction interval, in percent (0 < level < 100).
        names: model names from `STATISTICAL_MODELS`; None = ``models_for(season)``.
        n_jobs: statsforecast's worker processes (forked; -1 = every core).
        progress: optional callable(str) for a line before and after the work.

    Returns:
        {name: {"mean", "lower", "upper": (windows, horizon) float64 (lower/upper None for
        a model without intervals), "fallback": (windows,) bool, True where the window took
        the Naive fallback}}.
    """
    _check_int("horizon", horizon, 1)
    _check_int("season", season, 1)
    names = list(models_for(season) if names is None else names)
    _check_names(names, season)
    level = _check_level(level)
    if not isinstance(n_jobs, (int, np.integer)) or not (n_jobs == -1 or n_jobs >= 1):
        raise pipeline_error("n_jobs", "must be -1 or an integer of at least 1", n_jobs)
    histories = _check_histories(histories)
    if not availability()[0]:
        raise pipeline_error("names", "need statsforecast, which is not installed: pip "
                             "install 'rnn-pipeline[stats]'", names)
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import NaNModel, Naive

    lengths = np.array([len(h) for h in histories])
    frame = pd.DataFrame({
        "unique_id": np.repeat(np.arange(len(histories)), lengths),  # integers: numeric order
        "ds": np.concatenate([np.arange(n) for n in lengths]),
        "y": np.concatenate(histories)})
    models = [_model(name, season) for name in names] + [Naive(alias=_FALLBACK)]
    if progress:
        progress(f"statsforecast: {len(names)} models ({', '.join(names)}) on "
                 f"{len(histories)} windows, horizon {horizon}, season {season}...")
    start = time.perf_counter()
    forecaster = StatsForecast(models=models, freq=1, n_jobs=n_jobs, fallback_model=NaNModel())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"statsforecast(\.|$)")
        result = forecaster.forecast(df=frame, h=horizon, level=[level])
    table = _unstack(result, [*names, _FALLBACK], level, lengths, horizon)
    fallback = table.pop(_FALLBACK)
    for name, columns in table.items():
        parts = [columns[key] for key in ("mean", "lower", "upper") if columns[key] is not None]
        failed = ~np.all([np.isfinite(p).all(axis=1) for p in parts], axis=0)  # (windows,)
        for key in ("mean", "lower", "upper"):
            if columns[key] is not None:
                columns[key][failed] = fallback[key][failed]
        columns["fallback"] = failed
    if progress:
        fell = [f"{name} {table[name]['fallback'].sum()}" for name in names
                if table[name]["fallback"].any()]
        progress(f"statsforecast: done in {time.perf_counter() - start:.1f} s"
                 + (f"; Naive fallback on windows: {', '.join(fell)}" if fell else ""))
    return table


def _model(name, season):
    """The statsforecast model of one name, aliased by that name."""
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    if name == "sf_seasonal_naive":
        return SeasonalNaive(season_length=season, alias=name)
    if name == "auto_ets":
        return AutoETS(season_length=season, alias=name)
    if name == "auto_arima":
        return AutoARIMA(season_length=season, approximation=None, alias=name)
    if name == "auto_theta":
        return AutoTheta(season_length=season, alias=name)
    return MSTL(season_length=[season], trend_forecaster=AutoETS(model="ZZN"), alias=name)


def _unstack(result, aliases, level, lengths, horizon):
    """statsforecast's long result -> {alias: {"mean", "lower", "upper": (windows, horizon)}},
    placed by unique_id and step (never by row order).

    Args:
        result: rows (unique_id, ds, <alias>, <alias>-lo-<level>, <alias>-hi-<level>, ...).
        lengths: (windows,) history lengths; the first forecast step of window i is ds =
            lengths[i].
    """
    window = result["unique_id"].to_numpy().astype(np.int64)  # (windows * horizon,)
    step = result["ds"].to_numpy().astype(np.int64) - lengths[window]
    filled = np.zeros((len(lengths), horizon), np.int64)
    np.add.at(filled, (window, step), 1)
    if not (filled == 1).all():
        raise RuntimeError("statsforecast returned a forecast table that does not hold each "
                           "window's steps exactly once")
    table = {}
    for alias in aliases:
        columns = {}
        for key, column in (("mean", alias), ("lower", f"{alias}-lo-{level}"),
                            ("upper", f"{alias}-hi-{level}")):
            if column not in result.columns:
                columns[key] = None
                continue
            values = np.full((len(lengths), horizon), np.nan)  # (windows, horizon)
            values[window, step] = result[column].to_numpy(np.float64)
            columns[key] = values
        table[alias] = columns
    return table


def _check_int(argument, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise pipeline_error(argument, f"must be an integer of at least {low}", value)


def _check_names(names, season):
    unknown = [n for n in names if n not in STATISTICAL_MODELS]
    if unknown or not names or len(set(names)) != len(names):
        raise pipeline_error("names", "must be distinct names from: "
                             + ", ".join(repr(n) for n in STATISTICAL_MODELS), names)
    if season > MAX_ETS_SEASON and {"auto_ets", "auto_arima"} & set(names):
        raise pipeline_error("names", f"may hold 'auto_ets' and 'auto_arima' only for a "
                             f"season of at most {MAX_ETS_SEASON} (season={season}; use "
                             f"'mstl')", names)


def _check_level(level):
    """The level as statsforecast names its columns: 95.0 -> 95 ("lo-95")."""
    if isinstance(level, bool) or not isinstance(level, (int, float, np.number)) \
            or not 0 < level < 100:
        raise pipeline_error("level", "must be a percentage between 0 and 100 (exclusive)",
                             level)
    return int(level) if float(level).is_integer() else float(level)


def _check_histories(histories):
    """Each history as a 1-D float64 array of finite values, at least one per window."""
    if isinstance(histories, np.ndarray) and histories.ndim == 2:
        histories = list(histories)
    if not isinstance(histories, (list, tuple)) or not histories:
        raise pipeline_error("histories", "must be a non-empty list of 1-D arrays",
                             type(histories).__name__)
    checked = []
    for i, history in enumerate(histories):
        values = np.asarray(history, np.float64)
        if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
            raise pipeline_error(f"histories[{i}]", "must be a non-empty 1-D array of finite "
                                 "values", f"shape {values.shape}, "
                                 f"{int(np.size(values) - np.isfinite(values).sum())} "
                                 "not finite")
        checked.append(values)
    return checked
