"""Forecast metrics: MSE/MAE on scaled values (the ETT convention), MAE/RMSE on the
original scale, MASE against the seasonal-naive forecast's in-sample error; for a
distribution, CRPS on the scaled axis and the coverage of its central intervals."""

import numpy as np

INTERVALS = (0.8, 0.95)  # central intervals whose coverage is reported


def seasonal_scale(train_targets, period):
    """Mean |y[t] - y[t - period]| over the training rows, per target (MASE's denominator)."""
    diffs = np.abs(train_targets[period:] - train_targets[:-period])
    return diffs.mean(axis=0)  # (targets,)


def forecast_metrics(forecast, actual, mean, std, mase_scale):
    """Args:
        forecast, actual: (windows, horizon, targets) on the original scale.
        mean, std: per-target scaler of the training rows.
        mase_scale: `seasonal_scale` of the training rows.

    Returns:
        dict: mse, mae (scaled), mae_original, rmse_original (floats) and mase: the mean
        over the targets whose scale is positive, None when no target has one (MASE is
        undefined for a series that seasonal naive forecasts exactly).
    """
    error = forecast.astype(np.float64) - actual
    scaled = error / std
    defined = np.asarray(mase_scale) > 0  # (targets,)
    mase = np.abs(error).mean(axis=(0, 1))[defined] / np.asarray(mase_scale)[defined]
    return {"mse": float(np.mean(scaled ** 2)), "mae": float(np.mean(np.abs(scaled))),
            "mae_original": float(np.mean(np.abs(error))),
            "rmse_original": float(np.sqrt(np.mean(error ** 2))),
            "mase": float(np.mean(mase)) if defined.any() else None}


def error_by_step(forecast, actual, std):
    """Scaled MSE per horizon step: (horizon,)."""
    return np.mean(((forecast.astype(np.float64) - actual) / std) ** 2, axis=(0, 2))


def distribution_metrics(family, params, actual, std):
    """CRPS (scaled axis, comparable with ``mae``) and the share of actual values inside
    each central interval of `INTERVALS` (None where the distribution has none).

    Args:
        family: the model's `Distribution`.
        params: (windows, horizon, targets, P) on the original scale.
        actual: (windows, horizon, targets) on the original scale.
        std: per-target scaler std.
    """
    import tensorflow as tf

    params, actual = tf.constant(params, tf.float32), tf.constant(actual, tf.float32)
    crps = np.asarray(family.crps(params, actual)) / np.asarray(std)
    found = {"crps": float(np.mean(crps))}
    for share in INTERVALS:
        inside = family.covered(params, actual, share)
        found[f"coverage_{round(100 * share)}"] = (
            None if inside is None else float(np.mean(np.asarray(inside))))
    return found
