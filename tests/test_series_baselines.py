"""Forecast baselines and metrics against hand computations."""

import numpy as np
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.series.baselines import BASELINES, Linear, SeasonalNaive
from rnn_pipeline.series.metrics import error_by_step, forecast_metrics, seasonal_scale

HISTORY = np.array([[[1.0, 9.0], [2.0, 9.0], [3.0, 9.0], [6.0, 9.0]]], np.float32)  # (1, 4, 2)


def test_simple_baselines_by_hand():
    assert BASELINES.get("repeat")().predict(HISTORY, 3, 1)[0, :, 0].tolist() == [6, 6, 6]
    assert BASELINES.get("mean")().predict(HISTORY, 2, 1)[0, :, 0].tolist() == [3, 3]
    seasonal = SeasonalNaive(period=2).predict(HISTORY, 3, 1)
    assert seasonal[0, :, 0].tolist() == [3, 6, 3]
    with pytest.raises(PipelineError, match=r"^series.season must be at most the lookback "
                                            r"\(4\)\. Received: series.season=5"):
        SeasonalNaive(period=5).predict(HISTORY, 3, 1)


def test_linear_learns_a_sine_that_repeat_cannot():
    t = np.arange(400, dtype=np.float32)
    series = np.stack([np.sin(2 * np.pi * t / 24), np.cos(2 * np.pi * t / 24)], axis=1)
    starts = np.arange(0, 400 - 48 - 12)
    history = np.stack([series[s:s + 48] for s in starts])
    future = np.stack([series[s + 48:s + 60] for s in starts])
    linear = Linear().fit(history[:200], future[:200])
    error = np.abs(linear.predict(history[200:], 12, 2) - future[200:]).max()
    repeat = np.abs(BASELINES.get("repeat")().predict(history[200:], 12, 2) - future[200:]).max()
    assert error < 1e-2 < repeat


def test_metrics_by_hand():
    actual = np.array([[[1.0], [3.0]]])  # (1 window, 2 steps, 1 target)
    forecast = np.array([[[2.0], [1.0]]])  # errors +1, -2
    train = np.array([[0.0], [2.0], [0.0], [4.0]])  # |diffs| at period 2: 0, 2 -> scale 1
    scale = seasonal_scale(train, 2)
    assert scale.tolist() == [1.0]
    metrics = forecast_metrics(forecast, actual, mean=np.array([0.0]), std=np.array([2.0]),
                               mase_scale=scale)
    assert metrics == pytest.approx({"mse": (0.25 + 1.0) / 2, "mae": (0.5 + 1.0) / 2,
                                     "mae_original": 1.5, "rmse_original": np.sqrt(2.5),
                                     "mase": 1.5})
    assert error_by_step(forecast, actual, np.array([2.0])).tolist() == [0.25, 1.0]
