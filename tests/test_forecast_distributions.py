"""Forecast distributions against hand computations and numerical integration, and the
probabilistic forecaster: constrained outputs, round trips, training, the metrics table,
the forecast CSV's interval columns and the export's mean and quantiles."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.forecast.distributions import (Gaussian, Quantiles, StudentT, check_quantiles,
                                               student_t_cdf, student_t_quantile)
from rnn_pipeline.tasks.forecast.model import Forecaster
from test_forecast_workflow import PIPELINE, monthly_rows
from tests_support import assert_round_trips

X = np.random.default_rng(0).normal(size=(3, 8, 3)).astype(np.float32) * 5 + 10


def _params(*values):
    return tf.constant([values], tf.float32)  # (1, P)


@pytest.mark.parametrize("bad", [[0.9, 0.1], [0.0, 0.5], [0.5, 1.0], [], [0.2, 0.2]])
def test_quantiles_must_increase_inside_0_and_1(bad):
    with pytest.raises(PipelineError, match=r"^quantiles must be strictly increasing levels in "
                                            r"\(0, 1\), at least one\. Received: quantiles="):
        check_quantiles(bad)


def test_the_quantile_head_stacks_positive_gaps_around_its_anchor():
    family = Quantiles([0.1, 0.5, 0.9])
    raw = _params(2.0, 0.0, math.log(math.e - 1))  # gaps softplus(0) = ln 2, and 1
    np.testing.assert_allclose(family.constrain(raw), [[2 - math.log(2), 2.0, 3.0]], rtol=1e-6)
    five = Quantiles([0.05, 0.25, 0.5, 0.75, 0.95])
    raw = tf.random.stateless_normal([50, 5], seed=[1, 2]) * 3
    out = five.constrain(raw).numpy()
    assert (np.diff(out, axis=-1) > 0).all()  # never crossing
    np.testing.assert_allclose(out[:, 2], raw[:, 0])
    # pinball at 2.5 of the quantiles 1, 2, 3: 0.1 * 1.5, 0.5 * 0.5, 0.1 * 0.5 -> mean 0.15
    quantiles, actual = _params(1.0, 2.0, 3.0), tf.constant([2.5])
    assert float(family.nll(actual, quantiles)[0]) == pytest.approx(0.15)
    assert float(family.crps(actual=actual, params=quantiles)[0]) == pytest.approx(0.3)
    assert family.quantile(quantiles, 0.9).numpy().tolist() == [3.0]
    assert family.quantile(quantiles, 0.975) is None
    assert family.covered(quantiles, tf.constant([2.9]), 0.8).numpy().tolist() == [True]
    assert family.covered(quantiles, tf.constant([3.1]), 0.8).numpy().tolist() == [False]
    assert family.covered(quantiles, tf.constant([2.0]), 0.95) is None


def test_gaussian_by_hand():
    family = Gaussian([0.1, 0.5, 0.9])
    params = _params(1.0, 2.0)
    expected = 0.5 * math.log(2 * math.pi) + math.log(2.0) + 0.5  # z = 1
    assert float(family.nll(tf.constant([3.0]), params)[0]) == pytest.approx(expected, rel=1e-6)
    assert float(family.quantile(params, 0.975)[0]) == pytest.approx(1 + 2 * 1.959964, rel=1e-6)
    inside = family.covered(_params(0.0, 1.0), tf.constant([1.2, 1.3, -1.3]), 0.8)
    assert inside.numpy().tolist() == [True, False, False]  # the 80% bound is 1.2816


def test_student_t_cdf_and_quantile_match_the_tables():
    df = tf.constant([3.0, 5.0, 30.0])
    # t tables: t(0.95; 3) = 2.3534, t(0.975; 5) = 2.5706, t(0.9; 30) = 1.3104
    np.testing.assert_allclose(student_t_cdf(tf.constant([2.353363, -2.570582, 1.310415]), df),
                               [0.95, 0.025, 0.9], atol=1e-5)
    np.testing.assert_allclose(student_t_quantile(df, 0.975), [3.182446, 2.570582, 2.042272],
                               rtol=1e-5)
    np.testing.assert_allclose(student_t_quantile(df, 0.1), [-1.637744, -1.475884, -1.310415],
                               rtol=1e-5)
    # df = 1 is the Cauchy distribution: -log density at its centre is log(pi)
    family = StudentT([0.5])
    assert float(family.nll(tf.constant([0.0]), _params(0.0, 1.0, 1.0))[0]) == pytest.approx(
        math.log(math.pi), rel=1e-6)


@pytest.mark.parametrize("family, params", [(Gaussian([0.5]), (0.5, 1.5)),
                                            (StudentT([0.5]), (0.5, 1.5, 4.0))])
def test_closed_form_crps_matches_the_integral_of_the_squared_cdf_gap(family, params):
    actual = 2.0

    def cdf(grid):
        repeated = tf.constant(np.tile(np.asarray(params, np.float64), (len(grid), 1)))
        return family.cdf(repeated, tf.constant(grid)).numpy()

    below = np.linspace(-80.0, actual, 200_001)  # F^2 below the actual value ...
    above = np.linspace(actual, 80.0, 200_001)  # ... (1 - F)^2 above it
    integral = (np.trapezoid(np.square(cdf(below)), below)
                + np.trapezoid(np.square(1 - cdf(above)), above))
    crps = float(family.crps(tf.constant([params], tf.float64), tf.constant([actual],
                                                                             tf.float64))[0])
    assert crps == pytest.approx(integral, rel=1e-4)


def _model(head="direct", distribution="gaussian", **kwargs):
    options = dict(mean=[10.0, 9.0, 8.0], std=[5.0, 4.0, 3.0], head=head, cell="gru", units=6,
                   segment_length=4, seed=1, distribution=distribution,
                   quantiles=[0.1, 0.5, 0.9])
    options.update(kwargs)
    return Forecaster(8, 4, 3, 2, **options)


@pytest.mark.parametrize("head, distribution", [
    ("direct", "gaussian"), ("direct", "student_t"), ("direct", "quantile"),
    ("autoregressive", "gaussian"), ("seq2seq", "quantile"), ("segment", "student_t")])
def test_a_distribution_forecaster_outputs_valid_parameters_and_round_trips(
        head, distribution, tmp_path):
    model = _model(head, distribution, highway=True)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) * 0.1
                       for w in model.get_weights()])
    out = model(X).numpy()
    assert out.shape == (3, 4, 2, {"gaussian": 2, "student_t": 3, "quantile": 3}[distribution])
    if distribution == "quantile":
        assert (np.diff(out, axis=-1) > 0).all()
    else:
        assert (out[..., 1] > 0).all() and (distribution == "gaussian" or (out[..., 2] > 2).all())
    quantiles = model.quantiles_of(out)
    assert (quantiles[0.1] < quantiles[0.5]).all() and (quantiles[0.5] < quantiles[0.9]).all()
    loaded = assert_round_trips(model, X, tmp_path)
    assert loaded.task_config["distribution"] == distribution


def test_the_quantile_levels_are_checked_where_the_model_is_built():
    with pytest.raises(PipelineError, match=r"^quantiles must be strictly increasing"):
        _model(distribution="quantile", quantiles=[0.5, 0.2])


def test_a_gaussian_forecaster_learns_the_noise_level():
    rng = np.random.default_rng(4)
    history = rng.normal(size=(512, 8, 3)).astype(np.float32)
    future = 3.0 * rng.normal(size=(512, 4, 2)).astype(np.float32)  # unpredictable, std 3
    model = _model(mean=[0.0] * 3, std=[1.0] * 3, instance_norm="none")
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    keras.utils.set_random_seed(0)
    model.fit(history, future, batch_size=64, epochs=15, verbose=0)
    scale = model.predict(history, verbose=0)[..., 1]
    assert np.median(scale) == pytest.approx(3.0, rel=0.2)


def _fit_student_t(folder):
    csv = folder / "monthly.csv"
    csv.write_text("\n".join(monthly_rows()) + "\n")
    pipeline = folder / "air.toml"
    text = PIPELINE.format(csv=csv.as_posix(), extra="", target="Passengers")
    text = text.replace("num_layers = 1", 'num_layers = 1\ndistribution = "student_t"\n'
                                          "quantiles = [0.025, 0.1, 0.5, 0.9, 0.975]")
    pipeline.write_text(text)
    run = folder / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run


@pytest.fixture
def student_t_run(fitted_student_t):
    """A run of a Student-t forecaster (`_fit_student_t`, once per session); tests only
    read it."""
    return fitted_student_t


def test_the_table_scores_the_distribution_and_its_intervals(student_t_run):
    result, run = student_t_run
    assert result.exit_code == 0, result.output
    table = json.loads((run / "forecast_metrics.json").read_text())
    model, others = table[0], table[1:]
    assert model["model"] == "gru direct" and math.isfinite(model["crps"])
    assert 0.0 <= model["coverage_80"] <= model["coverage_95"] <= 1.0
    for row in others:  # point forecasts: CRPS is the absolute error, no interval
        assert row["crps"] == row["mae"] and row["coverage_80"] is None
    header = next(line for line in result.output.splitlines() if line.startswith("model "))
    assert "CRPS" in header and "80% in" in header and "95% in" in header
    assert (run / "forecast.png").stat().st_size > 10_000


def test_forecast_writes_lower_median_and_upper_columns(student_t_run, tmp_path):
    import pandas as pd

    _, run = student_t_run
    recent = tmp_path / "recent.csv"
    recent.write_text("\n".join(monthly_rows()[:31]) + "\n")
    out = tmp_path / "forecast.csv"
    # In this process; the command in a fresh process, where the run's distribution classes
    # must register themselves: test_every_command (this run is fitted once per session).
    done = CliRunner().invoke(cli, ["forecast", str(run), "--input", str(recent), "--out",
                                    str(out)])
    assert done.exit_code == 0, done.output[-2000:]

    frame = pd.read_csv(out)
    assert list(frame.columns) == ["Month", "Passengers", "Passengers_lower",
                                   "Passengers_median", "Passengers_upper"]
    assert (frame["Passengers_lower"] < frame["Passengers_median"]).all()
    assert (frame["Passengers_median"] < frame["Passengers_upper"]).all()
    # the t's median is its location, its mean: the point forecast
    np.testing.assert_allclose(frame["Passengers_median"], frame["Passengers"], rtol=1e-5)


@pytest.mark.slow  # 18 s on 2 cores: the slow suite runs it
def test_the_export_returns_the_mean_and_the_quantiles(student_t_run, tmp_path):
    from tensorflow.python.framework import op_def_registry

    from rnn_pipeline.export.graph_checks import op_names, read_saved_model
    from rnn_pipeline.tasks.forecast.workflow import ForecastWorkflow
    from tests_support import export_run, tf_only_process

    _, run = student_t_run
    path = export_run(run, tmp_path)
    history = (np.arange(24, dtype=np.float32) * 5 + 300).reshape(1, 24, 1)
    out = tf_only_process(path, {"serving_default": {"history": history.tolist()}},
                          cli=("serving_default", f"history={[[[300.0]] * 24] * 2}"))
    served = out["serving_default"]
    model = ForecastWorkflow.from_run(run, log=lambda *_: None).model
    output = model.predict(history, verbose=0)
    np.testing.assert_allclose(served["mean"], model.point_forecast(output), rtol=1e-5)
    expected = np.stack(list(model.quantiles_of(output).values()), axis=-1)
    np.testing.assert_allclose(served["quantiles"], expected, rtol=1e-4)
    assert np.shape(served["quantiles"]) == (1, 12, 1, 5)
    assert all(op_def_registry.get(op) is not None for op in op_names(read_saved_model(path)))
    cli_out = out["saved_model_cli"]
    assert "Result for output key quantiles:" in cli_out and "output key mean:" in cli_out
