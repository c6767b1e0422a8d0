"""statsforecast's models through `statistical_forecasts`, against hand-known forecasts."""

import sys

import numpy as np
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.forecast.series.statistical import (availability, models_for,
                                                            statistical_forecasts)

MISSING = "statsforecast is not installed: pip install 'rnn-pipeline[stats]'"


@pytest.fixture
def statsforecast():
    """Skips the test where the optional ``stats`` extra is not installed."""
    return pytest.importorskip("statsforecast", reason=MISSING)


def test_seasonal_naive_repeats_each_history_in_window_order(statsforecast):
    # 12 windows (ids 10 and 11 would sort before 2 as strings), each of another length
    histories = [100.0 * i + np.arange(5 + i) ** 2 for i in range(12)]
    out = statistical_forecasts(histories, horizon=5, season=3, names=["sf_seasonal_naive"])
    naive = out["sf_seasonal_naive"]
    expected = np.stack([h[len(h) - 3 + np.arange(5) % 3] for h in histories])  # (12, 5)
    assert naive["mean"].dtype == np.float64 and naive["mean"].shape == (12, 5)
    np.testing.assert_array_equal(naive["mean"], expected)
    assert naive["mean"][0].tolist() == [4.0, 9.0, 16.0, 4.0, 9.0]  # 0 1 [4 9 16] again
    assert (naive["lower"] < naive["mean"]).all() and (naive["mean"] < naive["upper"]).all()
    assert not naive["fallback"].any()


def test_a_history_shorter_than_the_season_falls_back_to_naive(statsforecast):
    histories = [np.array([1.0, 2.0, 7.0]), np.array([3.0, 1.0, 4.0, 1.0, 5.0])]
    lines = []
    out = statistical_forecasts(histories, horizon=4, season=4, names=["sf_seasonal_naive"],
                                progress=lines.append)
    naive = out["sf_seasonal_naive"]  # window 0: Naive (its last value); 1: last season
    assert naive["mean"].tolist() == [[7.0] * 4, [1.0, 4.0, 1.0, 5.0]]
    assert naive["fallback"].tolist() == [True, False]
    assert np.isfinite(naive["lower"]).all() and np.isfinite(naive["upper"]).all()
    assert lines[0].startswith("statsforecast: 1 models (sf_seasonal_naive) on 2 windows")
    assert lines[-1].endswith("Naive fallback on windows: sf_seasonal_naive 1")


def test_auto_ets_continues_a_constant_and_a_line(statsforecast):
    t = np.arange(30.0)
    out = statistical_forecasts([np.full(30, 5.0), 2.0 * t + 1.0], horizon=3, season=1,
                                names=["auto_ets"])
    # (windows, horizon): 5 5 5 and the line's next values 2 * 30 + 1, ...
    np.testing.assert_allclose(out["auto_ets"]["mean"], [[5.0, 5.0, 5.0], [61.0, 63.0, 65.0]],
                               rtol=1e-3)


@pytest.mark.parametrize("season,lengths", [(4, [28, 33, 40]), (30, [95, 120])])
def test_intervals_contain_the_mean_for_every_model_of_a_season(statsforecast, season,
                                                                 lengths):
    rng = np.random.default_rng(0)
    histories = [10.0 + np.sin(2 * np.pi * np.arange(n) / season) + 0.2 * rng.normal(size=n)
                 for n in lengths]
    out = statistical_forecasts(histories, horizon=6, season=season, level=80)
    assert sorted(out) == sorted(models_for(season))
    for name, forecast in out.items():
        mean, lower, upper = forecast["mean"], forecast["lower"], forecast["upper"]
        assert mean.shape == lower.shape == upper.shape == (len(lengths), 6), name
        assert np.isfinite(mean).all(), name
        assert (lower <= mean).all() and (mean <= upper).all(), name
        assert (lower < upper).any(), name


def test_models_for_a_season_up_to_24_and_beyond():
    assert models_for(24) == ["sf_seasonal_naive", "auto_ets", "auto_arima", "auto_theta"]
    assert models_for(96) == ["sf_seasonal_naive", "auto_theta", "mstl"]
    with pytest.raises(PipelineError, match=r"^names may hold 'auto_ets' and 'auto_arima' only "
                                            r"for a season of at most 24"):
        statistical_forecasts([np.ones(200)], 2, 96, names=["auto_ets"])


def test_bad_arguments_in_the_one_error_format():
    history = [np.arange(10.0)]
    with pytest.raises(PipelineError, match=r"^horizon must be an integer of at least 1\. "
                                            r"Received: horizon=0$"):
        statistical_forecasts(history, 0, 4)
    with pytest.raises(PipelineError, match=r"^level must be a percentage between 0 and 100 "
                                            r"\(exclusive\)\. Received: level=100$"):
        statistical_forecasts(history, 2, 4, level=100)
    with pytest.raises(PipelineError, match=r"^names must be distinct names from: "
                                            r"'sf_seasonal_naive', .*Received: names=\['ets'\]"):
        statistical_forecasts(history, 2, 4, names=["ets"])
    with pytest.raises(PipelineError, match=r"^histories\[1\] must be a non-empty 1-D array of "
                                            r"finite values\. Received: histories\[1\]='shape "
                                            r"\(3,\), 1 not finite'"):
        statistical_forecasts([np.ones(5), np.array([1.0, np.nan, 2.0])], 2, 4)


def test_availability_names_the_extra_when_statsforecast_cannot_be_imported(monkeypatch):
    monkeypatch.setitem(sys.modules, "statsforecast", None)
    assert availability() == (False, MISSING)
    with pytest.raises(PipelineError, match=r"^names need statsforecast, which is not "
                                            r"installed: pip install 'rnn-pipeline\[stats\]'"):
        statistical_forecasts([np.arange(10.0)], 2, 4, names=["auto_theta"])
