"""The M4 competition's measures (sMAPE, MASE, OWA, MSIS) and its Naive2 benchmark, in NumPy,
as defined by Makridakis, Spiliotis and Assimakopoulos (IJF 2020) and the competitor guide."""

import numpy as np

from rnn_pipeline.errors import pipeline_error

SEASONALITY_Z = 1.645  # M4's seasonality test: the one-sided 90% normal quantile


def smape(forecast, actual):
    """Symmetric MAPE per series, in percent: 200/h · Σ |y − ŷ| / (|y| + |ŷ|).

    A step whose actual and forecast are both 0 counts as 0 error (the formula reads 0/0
    there).

    Args:
        forecast, actual: (series, horizon).

    Returns:
        (series,) float64.
    """
    forecast, actual = _paired("forecast", forecast, "actual", actual)
    error = np.abs(actual - forecast)  # (series, horizon)
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(error, denominator, out=np.zeros_like(error), where=denominator > 0)
    return 200.0 * ratio.mean(axis=1)


def seasonal_scale(insample, season):
    """MASE's denominator for one series: mean |y[t] − y[t − m]| over its in-sample values.

    A series of at most m values has no seasonal difference, so m falls back to 1 there (the
    one-step naive error). M4 never needed this (each of its series is longer than m) and its
    R code has no such branch; GluonTS's seasonal error does the same.

    Args:
        insample: 1-D in-sample values, at least 2.
        season: m, observations per seasonal cycle (1 for none).

    Returns:
        float; 0.0 when the seasonal naive forecast is exact in-sample.
    """
    _check_season(season)
    values = _series(insample, minimum=2)
    lag = season if values.size > season else 1
    return float(np.mean(np.abs(values[lag:] - values[:-lag])))


def mase(forecast, actual, insample, season):
    """Mean absolute scaled error per series: mean |y − ŷ| / `seasonal_scale`.

    A series whose scale is 0 (its in-sample seasonal naive forecast is exact) gets NaN, so
    a mean over series is NaN too; ``np.isnan`` on the result finds those series.

    Args:
        forecast, actual: (series, horizon).
        insample: one 1-D array per series (lengths may differ).
        season: m, observations per seasonal cycle (1 for none).

    Returns:
        (series,) float64.
    """
    forecast, actual = _paired("forecast", forecast, "actual", actual)
    scales = _scales(insample, season, len(actual))  # (series,)
    return _scaled(np.abs(actual - forecast).mean(axis=1), scales)


def is_seasonal(insample, season):
    """M4's 90% seasonality test at lag m on the sample autocorrelations r_k.

    Seasonal when m > 1, n ≥ 3m and |r_m| > 1.645 · sqrt((1 + 2 · Σ_{k<m} r_k²) / n). A
    constant series (no autocorrelation) is not seasonal.

    Args:
        insample: 1-D in-sample values.
        season: m, observations per seasonal cycle.
    """
    _check_season(season)
    values = _series(insample, minimum=1)
    count = values.size
    if season == 1 or count < 3 * season:
        return False
    deviations = values - values.mean()
    total = np.sum(deviations ** 2)
    if total == 0:
        return False
    acf = np.array([np.sum(deviations[lag:] * deviations[:-lag])
                    for lag in range(1, season + 1)]) / total  # r_1 .. r_m
    limit = SEASONALITY_Z * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / count)
    return bool(abs(acf[-1]) > limit)


def seasonal_indices(insample, season):
    """Classical multiplicative decomposition's seasonal indices, averaging 1.

    The trend is the centred moving average of order m (2×m for even m); index p is the
    mean of y / trend over the positions t ≡ p (mod m) where the trend exists, counting
    from the series' first value. Assumes positive values, as M4's are.

    Args:
        insample: 1-D in-sample values, at least 2m.
        season: m ≥ 2.

    Returns:
        (season,) float64.
    """
    _check_season(season)
    values = _series(insample, minimum=2 * season)
    if season % 2:
        weights = np.full(season, 1.0 / season)
    else:
        weights = np.concatenate([[0.5], np.ones(season - 1), [0.5]]) / season
    half = len(weights) // 2
    trend = np.convolve(values, weights, mode="valid")  # at positions half .. n - half - 1
    positions = np.arange(half, values.size - half)
    ratios = values[positions] / trend
    indices = np.array([ratios[positions % season == phase].mean()
                        for phase in range(season)])
    return indices / indices.mean()


def naive2(insample, horizon, season):
    """M4's Naive2 benchmark for one series: naive on the seasonally adjusted series.

    When `is_seasonal`, the series is divided by its `seasonal_indices`, the last adjusted
    value is repeated and multiplied by the indices that continue the cycle; otherwise the
    last value is repeated (plain naive).

    Args:
        insample: 1-D in-sample values.
        horizon: steps to forecast.
        season: m, observations per seasonal cycle (1 for none).

    Returns:
        (horizon,) float64.
    """
    _check_horizon(horizon)
    values = _series(insample, minimum=1)
    if not is_seasonal(values, season):
        return np.full(horizon, values[-1])
    indices = seasonal_indices(values, season)  # (season,)
    count = values.size
    level = values[-1] / indices[(count - 1) % season]
    return level * indices[(count + np.arange(horizon)) % season]


def naive2_forecasts(insamples, horizon, season):
    """`naive2` for each series.

    Args:
        insamples: one 1-D array per series (lengths may differ).
        horizon, season: as for `naive2`.

    Returns:
        (series, horizon) float64.
    """
    _check_horizon(horizon)
    forecasts = [naive2(insample, horizon, season) for insample in insamples]
    return np.array(forecasts, np.float64).reshape(len(forecasts), horizon)


def owa(smape_model, mase_model, smape_naive2, mase_naive2):
    """M4's Overall Weighted Average: 0.5 · (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2).

    Each argument may be per-series values (series,) or their mean (a float): each is
    averaged over the series first and OWA relates those means, as M4 ranks methods; it is
    not the mean of per-series ratios. NaN when a Naive2 mean is 0 (OWA is undefined there).

    Args:
        smape_model, mase_model: the method's `smape` and `mase`.
        smape_naive2, mase_naive2: Naive2's on the same series.
    """
    means = [float(np.mean(np.asarray(values, np.float64)))
             for values in (smape_model, mase_model, smape_naive2, mase_naive2)]
    if means[2] == 0 or means[3] == 0:
        return float("nan")
    return 0.5 * (means[0] / means[2] + means[1] / means[3])


def msis(lower, upper, actual, insample, season, alpha=0.05):
    """Mean scaled interval score per series (M4's interval measure):
    (1/h) · Σ [(u − l) + (2/α)(l − y)·1{y < l} + (2/α)(y − u)·1{y > u}] / `seasonal_scale`.

    Like `mase`, a series whose scale is 0 gets NaN.

    Args:
        lower, upper, actual: (series, horizon); the interval's bounds and the outcome.
        insample: one 1-D array per series (lengths may differ).
        season: m, observations per seasonal cycle (1 for none).
        alpha: 1 − the interval's nominal coverage (0.05 for M4's 95% intervals).

    Returns:
        (series,) float64.
    """
    if not (isinstance(alpha, (int, float, np.number)) and 0 < alpha < 1):
        raise pipeline_error("alpha", "must be in (0, 1)", alpha)
    lower, upper, actual = _bounds(lower, upper, actual)
    scales = _scales(insample, season, len(actual))  # (series,)
    below = (lower - actual) * (actual < lower)  # (series, horizon)
    above = (actual - upper) * (actual > upper)
    score = (upper - lower + (2.0 / alpha) * (below + above)).mean(axis=1)
    return _scaled(score, scales)


def coverage(lower, upper, actual):
    """The share of all actual values inside their closed interval [lower, upper].

    Args:
        lower, upper, actual: (series, horizon).
    """
    lower, upper, actual = _bounds(lower, upper, actual)
    return float(np.mean((lower <= actual) & (actual <= upper)))


def m4_summary(forecast, actual, insample, season, lower=None, upper=None,
               naive2_forecast=None):
    """M4's scores of one method over a set of series.

    Args:
        forecast, actual: (series, horizon).
        insample: one 1-D array per series (lengths may differ).
        season: m, observations per seasonal cycle (1 for none).
        lower, upper: (series, horizon) 95% interval bounds, both or neither.
        naive2_forecast: (series, horizon); computed with `naive2_forecasts` when None.

    Returns:
        dict: smape, mase (means over series) and owa; with intervals also msis (its mean
        over series) and coverage_95.
    """
    if (lower is None) != (upper is None):
        raise pipeline_error("upper", "must be given exactly when lower is", upper)
    forecast, actual = _paired("forecast", forecast, "actual", actual)
    if naive2_forecast is None:
        naive2_forecast = naive2_forecasts(insample, actual.shape[1], season)
    naive2_forecast, _ = _paired("naive2_forecast", naive2_forecast, "actual", actual)
    model_smape, model_mase = smape(forecast, actual), mase(forecast, actual, insample, season)
    summary = {"smape": float(np.mean(model_smape)), "mase": float(np.mean(model_mase)),
               "owa": owa(model_smape, model_mase, smape(naive2_forecast, actual),
                          mase(naive2_forecast, actual, insample, season))}
    if lower is not None:
        summary["msis"] = float(np.mean(msis(lower, upper, actual, insample, season)))
        summary["coverage_95"] = coverage(lower, upper, actual)
    return summary


def _paired(name, values, reference_name, reference):
    """Both as float64 arrays, `reference` 2-D (series, horizon) and `values` of its shape."""
    reference = np.asarray(reference, np.float64)
    values = np.asarray(values, np.float64)
    if reference.ndim != 2:
        raise pipeline_error(reference_name, "must be 2-D: (series, horizon)", reference.shape)
    if values.shape != reference.shape:
        raise pipeline_error(name, f"must have the shape of {reference_name} "
                                   f"{reference.shape}", values.shape)
    return values, reference


def _bounds(lower, upper, actual):
    lower, actual = _paired("lower", lower, "actual", actual)
    upper, _ = _paired("upper", upper, "actual", actual)
    crossed = np.argwhere(lower > upper)
    if len(crossed):
        series, step = crossed[0]
        raise pipeline_error("lower", f"must be at most upper (upper={upper[series, step]:g} "
                                      f"at series {series}, step {step})",
                             float(lower[series, step]))
    return lower, upper, actual


def _scales(insamples, season, series_count):
    """`seasonal_scale` of each series: (series,)."""
    if len(insamples) != series_count:
        raise pipeline_error("insample", f"must hold one series per forecast row "
                                         f"({series_count})", len(insamples))
    return np.array([seasonal_scale(insample, season) for insample in insamples], np.float64)


def _scaled(errors, scales):
    """errors / scales per series, NaN where the scale is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scales > 0, errors / scales, np.nan)


def _series(insample, minimum):
    values = np.asarray(insample, np.float64)
    if values.ndim != 1 or values.size < minimum:
        raise pipeline_error("insample", f"must be a 1-D series of at least {minimum} values",
                             values.shape)
    return values


def _check_season(season):
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 1:
        raise pipeline_error("season", "must be an integer of at least 1", season)


def _check_horizon(horizon):
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise pipeline_error("horizon", "must be an integer of at least 1", horizon)
