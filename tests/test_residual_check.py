"""The check that keeps the recurrent head's correction to the highway only where the
validation windows show it helps: the Diebold-Mariano test and the forecaster's location
units."""

import numpy as np
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.forecast.model import Forecaster
from rnn_pipeline.tasks.forecast.residual import check_level, check_residual, drop_residual
from rnn_pipeline.tasks.forecast.series.comparison import diebold_mariano, student_t_below

HEADS = ["direct", "autoregressive", "seq2seq", "segment"]


def test_student_t_below_matches_tabled_quantiles():
    assert student_t_below(-2.015048, 5) == pytest.approx(0.05, abs=1e-6)
    assert student_t_below(2.015048, 5) == pytest.approx(0.95, abs=1e-6)
    assert student_t_below(-1.644854, 10 ** 6) == pytest.approx(0.05, abs=1e-6)


def test_at_horizon_one_it_is_the_paired_t_test():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=12), rng.normal(size=12) + 0.5
    difference = a - b
    t = difference.mean() / (difference.std(ddof=1) / np.sqrt(12))
    found = diebold_mariano(a, b, horizon=1)
    assert found["statistic"] == pytest.approx(t, rel=1e-9)
    assert found["p_value"] == pytest.approx(student_t_below(t, 11), rel=1e-9)
    assert found["windows"] == 12 and found["mean_difference"] == pytest.approx(
        difference.mean())


def test_overlapping_windows_use_the_lag_covariances_and_the_small_sample_correction():
    # Worked by hand (exact fractions): mean -5/3, variance 14/27 with the lag-1
    # autocovariance, correction (6 + 1 - 4 + 2/6) / 6 = 5/9.
    found = diebold_mariano([-1.0, -2.0, -2.0, -3.0, -1.0, -1.0], np.zeros(6), horizon=2)
    assert found["statistic"] == pytest.approx(-4.225771273642583, rel=1e-9)
    assert found["p_value"] == pytest.approx(0.004140896718780719, rel=1e-6)


@pytest.mark.parametrize("a, b, horizon, reason", [
    (np.arange(3.0), np.arange(3.0) + 1, 12, "too few windows for the test"),
    (np.ones(30), np.ones(30) * 2, 4, "no positive variance estimate of the difference"),
    # alternating differences: the lag-1 covariance outweighs the variance
    (np.tile([1.0, -1.0], 15), np.zeros(30), 2,
     "no positive variance estimate of the difference"),
])
def test_when_the_test_cannot_tell_the_p_value_is_one(a, b, horizon, reason):
    found = diebold_mariano(a, b, horizon)
    assert found["statistic"] is None and found["p_value"] == 1.0
    assert found["reason"] == reason


@pytest.mark.parametrize("bad", [0, 1.5, -0.1, True, "0.05"])
def test_the_level_is_one_line_naming_its_key(bad):
    with pytest.raises(PipelineError) as error:
        check_level(bad)
    assert str(error.value) == ("model.residual_test must be a significance level in (0, 1] "
                                "(1 keeps the recurrent head's correction always). "
                                f"Received: model.residual_test={bad!r}")
    assert check_level(1) == 1.0


X = np.random.default_rng(0).normal(size=(24, 8, 3)).astype(np.float32) * 5 + 10


def _trained_looking(head, distribution="none"):
    """A forecaster with a highway and random (non-zero) head weights."""
    model = Forecaster(8, 4, 3, 2, mean=[10.0, 9.0, 8.0], std=[5.0, 4.0, 3.0], head=head,
                       units=6, segment_length=2, highway=True, distribution=distribution,
                       seed=1)
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) * 0.3
                       for w in model.get_weights()])
    return model


@pytest.mark.parametrize("head", HEADS)
def test_dropping_the_residual_leaves_the_linear_part(head):
    model = _trained_looking(head)
    assert not np.allclose(model.predict(X, verbose=0), model.linear_part(X), atol=1e-3)
    drop_residual(model)
    np.testing.assert_allclose(model.predict(X, verbose=0), model.linear_part(X), rtol=1e-5,
                               atol=1e-4)


@pytest.mark.parametrize("head", ["direct", "seq2seq", "segment"])
def test_a_distribution_keeps_its_spread_when_the_location_goes(head):
    model = _trained_looking(head, distribution="gaussian")
    before = model.predict(X, verbose=0)  # (windows, horizon, targets, [mean, scale])
    drop_residual(model)
    after = model.predict(X, verbose=0)
    np.testing.assert_allclose(model.point_forecast(after), model.linear_part(X), rtol=1e-5,
                               atol=1e-4)
    np.testing.assert_allclose(after[..., 1], before[..., 1], rtol=1e-5)


@pytest.mark.parametrize("helps", [True, False])
def test_the_check_keeps_a_correction_only_where_it_helps(helps):
    model = _trained_looking("direct")
    noise = np.random.default_rng(2).normal(size=(24, 4, 2)).astype(np.float32) * 0.05
    truth = model.predict(X, verbose=0) if helps else model.linear_part(X)
    weights = [w.copy() for w in model.get_weights()]
    lines = []
    found = check_residual(model, X, truth + noise, 0.05, log=lines.append)
    assert found["kept"] is helps
    assert (found["p_value"] < 1e-3) is helps
    assert len(lines) == 1 and lines[0].endswith(
        ": kept" if helps else ": dropped: the forecast's location is the highway's")
    assert "over 24 windows (Diebold-Mariano, p = " in lines[0]
    if helps:  # the trained weights are back
        for now, then in zip(model.get_weights(), weights):
            np.testing.assert_array_equal(now, then)
    else:
        np.testing.assert_allclose(model.predict(X, verbose=0), model.linear_part(X),
                                   rtol=1e-5, atol=1e-4)
