"""M4 measures and the Naive2 benchmark against hand computations."""

import numpy as np
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.forecast.series.m4_metrics import (coverage, is_seasonal, m4_summary,
                                                           mase, msis, naive2,
                                                           naive2_forecasts, owa,
                                                           seasonal_indices, seasonal_scale,
                                                           smape)

ACTUAL = np.array([[1.0, 2.0, 3.0], [0.0, 4.0, 5.0]])  # (series, horizon)
FORECAST = np.array([[1.0, 4.0, 1.0], [0.0, 4.0, 10.0]])
# season 2: |2 - 1| = 1, |6 - 3| = 3 -> scale 2;  |5 - 2| = 3, |8 - 2| = 6, |2 - 5| = 3 -> 4
INSAMPLE = [np.array([1.0, 3.0, 2.0, 6.0]), np.array([2.0, 2.0, 5.0, 8.0, 2.0])]


def test_smape_by_hand():
    # series 0: 0/2 + 2/6 + 2/4 = 5/6 -> 200/3 * 5/6 = 1000/18
    # series 1: 0/0 (counts 0) + 0/8 + 5/15 = 1/3 -> 200/3 * 1/3 = 200/9
    np.testing.assert_allclose(smape(FORECAST, ACTUAL), [1000 / 18, 200 / 9], rtol=1e-12)


def test_mase_with_season_2_by_hand():
    assert seasonal_scale(INSAMPLE[0], 2) == 2.0
    assert seasonal_scale(INSAMPLE[1], 2) == 4.0
    # mean absolute errors: (0 + 2 + 2)/3 = 4/3 -> / 2 = 2/3;  (0 + 0 + 5)/3 = 5/3 -> / 4 = 5/12
    np.testing.assert_allclose(mase(FORECAST, ACTUAL, INSAMPLE, 2), [2 / 3, 5 / 12], rtol=1e-12)


def test_seasonal_scale_falls_back_to_lag_1_when_the_series_is_not_longer_than_m():
    # n = 2 < m = 4: |4 - 1| = 3;  n = m = 4: (3 + 2 + 5) / 3 = 10/3
    assert seasonal_scale([1.0, 4.0], 4) == 3.0
    assert seasonal_scale([1.0, 4.0, 2.0, 7.0], 4) == pytest.approx(10 / 3, rel=1e-12)
    # n = 5 > m = 4: the one seasonal difference |3 - 1| = 2
    assert seasonal_scale([1.0, 4.0, 2.0, 7.0, 3.0], 4) == 2.0


def test_a_zero_scale_gives_nan_for_that_series_only():
    insample = [INSAMPLE[0], np.array([3.0, 3.0, 3.0])]  # second: every difference is 0
    scores = mase(FORECAST, ACTUAL, insample, 1)
    # series 0 with lag 1: (2 + 1 + 4) / 3 = 7/3 -> (4/3) / (7/3) = 4/7
    assert scores[0] == pytest.approx(4 / 7, rel=1e-12) and np.isnan(scores[1])


def test_msis_and_coverage_by_hand():
    lower = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    upper = np.array([[3.0, 3.0, 3.0], [10.0, 10.0, 10.0]])
    actual = np.array([[2.0, 0.0, 5.0], [0.0, 5.0, 10.0]])  # series 1: on both bounds
    # alpha 0.05 -> 2/alpha = 40. series 0: inside 2; below 2 + 40*(1 - 0) = 42;
    # above 2 + 40*(5 - 3) = 82 -> (2 + 42 + 82)/3 = 42 -> / scale 2 = 21
    # series 1: all inside (closed interval), width 10 -> 10 / scale 4 = 2.5
    np.testing.assert_allclose(msis(lower, upper, actual, INSAMPLE, 2), [21.0, 2.5])
    # alpha 0.2 -> 2/alpha = 10: (2 + 12 + 22)/3 = 12 -> / 2 = 6
    assert msis(lower, upper, actual, INSAMPLE, 2, alpha=0.2)[0] == pytest.approx(6.0)
    # inside: 1 of 3 in series 0, 3 of 3 in series 1 -> 4/6
    assert coverage(lower, upper, actual) == pytest.approx(2 / 3)


def test_owa_relates_means_not_per_series_ratios():
    smape_model, smape_naive2 = np.array([8.0, 12.0]), np.array([20.0, 20.0])
    mase_model, mase_naive2 = np.array([1.0, 2.0]), np.array([0.5, 1.5])
    # means 10, 20, 1.5, 1.0 -> 0.5 * (10/20 + 1.5/1.0) = 1.0
    # (the mean of per-series ratios would be 0.5 * (0.5 + (2 + 4/3)/2) = 13/12)
    assert owa(smape_model, mase_model, smape_naive2, mase_naive2) == pytest.approx(1.0)
    assert owa(10.0, 1.5, 20.0, 1.0) == pytest.approx(1.0)  # means given directly
    assert np.isnan(owa(10.0, 1.5, 0.0, 1.0))


def test_seasonality_test_by_hand():
    # 1, 3, 1, 3, ... with m = 2: deviations ±1 around the mean 2.
    # n = 6: r1 = -5/6, r2 = 4/6; limit 1.645 * sqrt((1 + 2 * 25/36) / 6) = 1.038 > 0.667
    assert not is_seasonal([1.0, 3.0] * 3, 2)
    # n = 12: r1 = -11/12, r2 = 10/12; limit 1.645 * sqrt((1 + 2 * 121/144) / 12) = 0.777 < 0.833
    assert is_seasonal([1.0, 3.0] * 6, 2)
    assert not is_seasonal([1.0, 3.0] * 6, 1)  # m = 1 is never seasonal
    assert not is_seasonal([1.0, 3.0, 1.0, 3.0, 1.0], 2)  # n = 5 < 3m
    assert not is_seasonal([4.0] * 12, 2)  # constant: no autocorrelation


def test_seasonal_indices_by_hand():
    # m = 2: trend (0.25, 0.5, 0.25) at positions 1..4: 3, 3, 3, 0.25*4 + 0.5*2 + 0.25*8 = 4
    # y/trend: 4/3, 2/3, 4/3, 2/4. phase 0 (positions 2, 4): (2/3 + 1/2)/2 = 7/12;
    # phase 1 (positions 1, 3): 4/3. Their mean 23/24 -> 14/23, 32/23
    np.testing.assert_allclose(seasonal_indices([2.0, 4.0, 2.0, 4.0, 2.0, 8.0], 2),
                               [14 / 23, 32 / 23], rtol=1e-12)
    # m = 3, plain 3-term mean: a pure pattern is its own index
    np.testing.assert_allclose(seasonal_indices([3.0, 6.0, 9.0] * 2, 3), [0.5, 1.0, 1.5])


def test_naive2_reproduces_a_pure_multiplicative_pattern():
    pattern = np.array([0.5, 1.5, 0.8, 1.2])  # averages 1
    insample = np.tile(10 * pattern, 6)[:22]  # ends on phase 1 (position 21)
    assert is_seasonal(insample, 4)
    # 2x4 moving average of a pure pattern is the level 10 -> indices = pattern; last
    # adjusted value 15 / 1.5 = 10; the cycle continues at phases 2, 3, 0, 1, 2
    np.testing.assert_allclose(naive2(insample, 5, 4), [8.0, 12.0, 5.0, 15.0, 8.0])


def test_naive2_uses_the_last_seasonally_adjusted_value():
    insample = np.array([2.0, 4.0] * 5 + [2.0, 5.0])
    # r1 = -0.805, r2 = 0.736 > 1.645 * sqrt((1 + 2 * 0.805^2) / 12) = 0.720: seasonal.
    assert is_seasonal(insample, 2)
    # trend is 3 at positions 1..9, 0.25*4 + 0.5*2 + 0.25*5 = 3.25 at 10. phase 1: 4/3;
    # phase 0: (4 * 2/3 + 2/3.25)/5 = 128/195; mean 194/195 -> indices 64/97, 130/97.
    # last adjusted value 5 / (130/97) = 97/26 -> 97/26 * 64/97 = 32/13, 97/26 * 130/97 = 5
    np.testing.assert_allclose(naive2(insample, 3, 2), [32 / 13, 5.0, 32 / 13], rtol=1e-12)


def test_naive2_is_plain_naive_without_seasonality():
    noise = [5.0, 3.0, 6.0, 4.0, 5.0, 7.0, 3.0, 6.0, 5.0, 4.0, 6.0, 5.0]
    # n = 12 = 3m; |r4| = 0.647 < limit 0.681: not seasonal -> the last value repeated
    assert not is_seasonal(noise, 4)
    np.testing.assert_array_equal(naive2(noise, 3, 4), [5.0, 5.0, 5.0])
    pure_but_short = np.tile([5.0, 15.0, 8.0, 12.0], 3)[:11]  # n = 11 < 3m = 12
    np.testing.assert_array_equal(naive2(pure_but_short, 2, 4), [8.0, 8.0])
    forecasts = naive2_forecasts([noise, pure_but_short], 2, 4)
    np.testing.assert_array_equal(forecasts, [[5.0, 5.0], [8.0, 8.0]])


def test_m4_summary_with_naive2_and_intervals():
    insample = [np.array([1.0, 2.0, 3.0, 4.0]), np.array([4.0, 2.0, 4.0, 2.0])]
    actual = np.array([[5.0, 6.0], [4.0, 2.0]])
    forecast = np.array([[5.0, 7.0], [4.0, 2.0]])
    # m = 1, series too short for the seasonality test: Naive2 = naive = [[4, 4], [2, 2]]
    # scales: 1 and 2. model: sMAPE [100 * 1/13, 0], MASE [1/2, 0];
    # Naive2: sMAPE [100 * (1/9 + 2/10), 100 * (2/6 + 0)], MASE [(1 + 2)/2, (2 + 0)/2 / 2]
    summary = m4_summary(forecast, actual, insample, 1, lower=forecast - 1, upper=forecast + 1)
    naive2_smape = (100 * (1 / 9 + 2 / 10) + 100 / 3) / 2
    expected_owa = 0.5 * (100 / 13 / 2 / naive2_smape + 0.25 / ((1.5 + 0.5) / 2))
    assert summary["smape"] == pytest.approx(100 / 13 / 2)
    assert summary["mase"] == pytest.approx(0.25)
    assert summary["owa"] == pytest.approx(expected_owa)
    # width 2 everywhere, all inside: 2/1 and 2/2 -> mean 1.5
    assert summary["msis"] == pytest.approx(1.5) and summary["coverage_95"] == 1.0
    given = m4_summary(forecast, actual, insample, 1, naive2_forecast=[[4, 4], [2, 2]])
    assert given == {key: summary[key] for key in ("smape", "mase", "owa")}


@pytest.mark.parametrize("call, message", [
    (lambda: smape(FORECAST[:, :2], ACTUAL),
     r"^forecast must have the shape of actual \(2, 3\)\. Received: forecast=\(2, 2\)$"),
    (lambda: smape(FORECAST[0], ACTUAL[0]),
     r"^actual must be 2-D: \(series, horizon\)\. Received: actual=\(3,\)$"),
    (lambda: mase(FORECAST, ACTUAL, INSAMPLE[:1], 2),
     r"^insample must hold one series per forecast row \(2\)\. Received: insample=1$"),
    (lambda: seasonal_scale([1.0, 2.0], 0),
     r"^season must be an integer of at least 1\. Received: season=0$"),
    (lambda: seasonal_scale([1.0], 1),
     r"^insample must be a 1-D series of at least 2 values\. Received: insample=\(1,\)$"),
    (lambda: msis(FORECAST, FORECAST, ACTUAL, INSAMPLE, 2, alpha=1.5),
     r"^alpha must be in \(0, 1\)\. Received: alpha=1\.5$"),
    (lambda: coverage(FORECAST, ACTUAL, ACTUAL),
     r"^lower must be at most upper \(upper=2 at series 0, step 1\)\. Received: lower=4\.0$"),
    (lambda: naive2([1.0, 2.0], 0, 1),
     r"^horizon must be an integer of at least 1\. Received: horizon=0$"),
    (lambda: m4_summary(FORECAST, ACTUAL, INSAMPLE, 2, lower=FORECAST),
     r"^upper must be given exactly when lower is\. Received: upper=None$"),
])
def test_mistakes_are_named(call, message):
    with pytest.raises(PipelineError, match=message):
        call()
