"""Forecast baselines and metrics against hand computations."""

import numpy as np
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.forecast.series.baselines import (BASELINES, DLinear, Linear, NLinear, SeasonalNaive,
                                           moving_average)
from rnn_pipeline.tasks.forecast.series.metrics import error_by_step, forecast_metrics, seasonal_scale

HISTORY = np.array([[[1.0, 9.0], [2.0, 9.0], [3.0, 9.0], [6.0, 9.0]]], np.float32)  # (1, 4, 2)


def test_simple_baselines_by_hand():
    assert BASELINES.get("repeat")().predict(HISTORY, 3, 1)[0, :, 0].tolist() == [6, 6, 6]
    assert BASELINES.get("mean")().predict(HISTORY, 2, 1)[0, :, 0].tolist() == [3, 3]
    seasonal = SeasonalNaive(period=2).predict(HISTORY, 3, 1)
    assert seasonal[0, :, 0].tolist() == [3, 6, 3]
    with pytest.raises(PipelineError, match=r"^series.season must be at most the lookback "
                                            r"\(4\)\. Received: series.season=5"):
        SeasonalNaive(period=5).predict(HISTORY, 3, 1)


def _windows(series, lookback=48, horizon=12):
    starts = np.arange(0, len(series) - lookback - horizon)
    history = np.stack([series[s:s + lookback] for s in starts])
    future = np.stack([series[s + lookback:s + lookback + horizon] for s in starts])
    return history, future


@pytest.mark.parametrize("name", ["linear", "nlinear", "dlinear"])
def test_linear_baselines_learn_a_sine_that_repeat_cannot(name):
    t = np.arange(400, dtype=np.float32)
    series = np.stack([np.sin(2 * np.pi * t / 24), np.cos(2 * np.pi * t / 24)], axis=1)
    history, future = _windows(series)
    linear = BASELINES.get(name)().fit(history[:200], future[:200])
    error = np.abs(linear.predict(history[200:], 12, 2) - future[200:]).max()
    repeat = np.abs(BASELINES.get("repeat")().predict(history[200:], 12, 2) - future[200:]).max()
    assert error < 1e-2 < repeat


def test_nlinear_follows_a_level_shift_that_linear_cannot():
    t = np.arange(400, dtype=np.float32)
    series = np.sin(2 * np.pi * t / 24)[:, None]
    history, future = _windows(series)
    shift = 50.0  # test windows far above every training level
    errors = {cls.__name__: np.abs(cls().fit(history[:200], future[:200]).predict(
        history[200:] + shift, 12, 1) - (future[200:] + shift)).max() for cls in (Linear, NLinear)}
    assert errors["NLinear"] < 1e-2 < 1.0 < errors["Linear"]


def test_moving_average_pads_each_end_with_its_own_value():
    rows = np.array([[1.0, 2.0, 6.0, 4.0]])
    # kernel 3: [1, 1, 2], [1, 2, 6], [2, 6, 4], [6, 4, 4]
    np.testing.assert_allclose(moving_average(rows, 3), [[4 / 3, 3.0, 4.0, 14 / 3]])
    np.testing.assert_allclose(moving_average(rows, 1), rows)


def test_dlinear_is_a_trend_map_plus_a_remainder_map():
    rng = np.random.default_rng(0)
    history = rng.normal(size=(30, 8, 1))
    future = rng.normal(size=(30, 3, 1))
    model = DLinear(kernel=3).fit(history, future)
    rows = history[:, :, 0]
    trend = moving_average(rows, 3)
    w = model.weights  # (2 * lookback + 1, horizon): trend rows, remainder rows, bias
    expected = trend @ w[:8] + (rows - trend) @ w[8:16] + w[16]
    np.testing.assert_allclose(model.predict(history, 3, 1)[:, :, 0], expected, rtol=1e-5)
    with pytest.raises(PipelineError, match=r"^kernel must be at least 1\. Received: kernel=0"):
        DLinear(kernel=0)


def test_every_linear_baseline_shares_one_map_across_channels():
    rng = np.random.default_rng(1)
    history = rng.normal(size=(40, 6, 2))
    future = rng.normal(size=(40, 2, 2))
    for name in ("linear", "nlinear", "dlinear"):
        model = BASELINES.get(name)().fit(history, future)
        swapped = model.predict(history[:, :, ::-1], 2, 2)
        np.testing.assert_allclose(swapped[:, :, ::-1], model.predict(history, 2, 2), rtol=1e-5)


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
