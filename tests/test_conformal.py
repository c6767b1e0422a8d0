"""Conformal calibration of a quantile forecaster's intervals (`model.conformal`): the
shift is the score quantile of conformalized quantile regression, it makes each interval
cover its share of the validation values, and it is saved in the model's config."""

import numpy as np
import pytest

from rnn_pipeline.tasks.forecast.calibration import calibrate_quantiles, conformal_shift
from rnn_pipeline.tasks.forecast.model import Forecaster


def test_the_shift_is_the_conformal_score_quantile():
    lower, upper = np.zeros(4), np.ones(4)
    actual = np.array([0.5, 2.0, -1.0, 0.5])
    # scores max(lower - y, y - upper): -0.5, 1, 1, -0.5; rank ceil(5 x 0.5) / 4 = 0.75 of
    # the sorted scores (-0.5, -0.5, 1, 1), the higher one: 1
    assert conformal_shift(lower, upper, actual, 0.5) == 1.0
    # an interval that already covers with room narrows: scores -0.5 x 4, shift -0.5
    assert conformal_shift(lower, upper, np.full(4, 0.5), 0.5) == -0.5


def test_calibration_makes_each_interval_cover_its_share_of_the_validation_values():
    model = Forecaster(8, 3, 1, 1, [5.0], [2.0], cell="gru", units=4, distribution="quantile",
                       quantiles=[0.05, 0.25, 0.5, 0.75, 0.95], seed=1)
    noise = np.random.RandomState(0)
    history = (5 + 2 * noise.randn(200, 8, 1)).astype("float32")
    actual = (5 + 2 * noise.randn(200, 3, 1)).astype("float32")
    found = calibrate_quantiles(model, history, actual, log=lambda line: None)
    assert sorted(found) == [0.5, 0.9]
    output = model.predict_windows(history)  # (windows, horizon, targets, 5), shifted
    for (i, j), share in (((0, 4), 0.9), ((1, 3), 0.5)):
        inside = np.mean((actual >= output[..., i]) & (actual <= output[..., j]))
        assert share <= inside <= share + 0.01, (share, inside)
        assert found[share][1] == pytest.approx(inside)
    # the shift is in the config: a model rebuilt from it forecasts the same quantiles
    again = Forecaster.from_config(model.get_config())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict_windows(history), output, rtol=1e-5, atol=1e-5)
