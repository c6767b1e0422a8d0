"""Forecast metrics: MSE/MAE on scaled values (the ETT convention), MAE/RMSE on the
original scale, and MASE against the seasonal-naive forecast's in-sample error."""

import numpy as np


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
        dict of floats: mse, mae (scaled), mae_original, rmse_original, mase.
    """
    error = forecast.astype(np.float64) - actual
    scaled = error / std
    return {"mse": float(np.mean(scaled ** 2)), "mae": float(np.mean(np.abs(scaled))),
            "mae_original": float(np.mean(np.abs(error))),
            "rmse_original": float(np.sqrt(np.mean(error ** 2))),
            "mase": float(np.mean(np.abs(error).mean(axis=(0, 1)) / mase_scale))}


def error_by_step(forecast, actual, std):
    """Scaled MSE per horizon step: (horizon,)."""
    return np.mean(((forecast.astype(np.float64) - actual) / std) ** 2, axis=(0, 2))
