"""The forecasting model: heads, in-model scaling and instance normalisation, config
round trips, and the behaviour that makes each head what it is."""

import keras
import numpy as np
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.forecast.highway import fit_highway
from rnn_pipeline.tasks.forecast.model import Forecaster
from tests_support import assert_round_trips

HEADS = ["direct", "autoregressive", "seq2seq", "segment"]
X = np.random.default_rng(0).normal(size=(3, 8, 3)).astype(np.float32) * 5 + 10


def _model(head="direct", **kwargs):
    options = dict(mean=[10.0, 9.0, 8.0], std=[5.0, 4.0, 3.0], head=head, cell="gru", units=6,
                   segment_length=4, seed=1)
    options.update(kwargs)
    return Forecaster(8, 4, 3, 2, **options)


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("highway", [False, True])
def test_heads_round_trip_through_config_and_keras_files(head, highway, tmp_path):
    model = _model(head, cell="lstm", num_layers=2, bidirectional=head != "segment",
                   highway=highway)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) * 0.1
                       for w in model.get_weights()])
    assert model(X).numpy().shape == (3, 4, 2)
    loaded = assert_round_trips(model, X, tmp_path)
    if highway:
        assert not np.allclose(model(X).numpy(), model.linear_part(X))  # the head adds
        np.testing.assert_allclose(loaded.linear_part(X), model.linear_part(X), rtol=1e-5)


def _zero_output(model, layer_name):
    layer = model.get_layer(layer_name)
    layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])


def test_scaler_and_instance_norm_live_in_the_model():
    plain = _model(instance_norm="none")
    _zero_output(plain, "direct")  # the head predicts 0 on the scaled axis ...
    np.testing.assert_allclose(plain(X).numpy(), np.broadcast_to([10.0, 9.0], (3, 4, 2)),
                               rtol=1e-6)  # ... which is the training mean on the raw axis
    shifted = _model(instance_norm="last")
    _zero_output(shifted, "direct")  # 0 change from the window's last value
    np.testing.assert_allclose(shifted(X).numpy(),
                               np.repeat(X[:, -1:, :2], 4, axis=1), rtol=1e-5)
    mean = _model(instance_norm="mean")
    _zero_output(mean, "direct")
    np.testing.assert_allclose(mean(X).numpy(),
                               np.repeat(X[:, :, :2].mean(axis=1, keepdims=True), 4, axis=1),
                               rtol=1e-5)


def test_seq2seq_reads_step_embeddings_and_autoregressive_its_own_predictions():
    for head, uses_steps in (("seq2seq", True), ("autoregressive", False)):
        model = _model(head)
        before = model(X).numpy()
        table = model.get_layer("step_embedding")
        table.set_weights([w + 1.0 for w in table.get_weights()])
        changed = not np.allclose(model(X).numpy(), before)
        assert changed == uses_steps, head


def test_segment_head_keeps_channels_independent_and_direct_does_not():
    other = X.copy()
    other[:, :, 1] += 7.0  # change only channel 1's history
    for head, independent in (("segment", True), ("direct", False)):
        model = _model(head, instance_norm="none")
        same = np.allclose(model(X).numpy()[:, :, 0], model(other).numpy()[:, :, 0], atol=1e-6)
        assert same == independent, head


def test_forecaster_errors_name_its_arguments():
    with pytest.raises(PipelineError, match=r"^head must be one of: 'autoregressive', "
                                            r"'direct', 'segment', 'seq2seq'"):
        _model("transformer")
    with pytest.raises(PipelineError, match=r"^lookback must be a multiple of "
                                            r"segment_length \(3\) in segment mode"):
        _model("segment", segment_length=3)


def test_a_few_steps_learn_a_sine_better_than_repeating_the_last_value():
    t = np.arange(300, dtype=np.float32)
    series = np.stack([np.sin(2 * np.pi * t / 12), np.cos(2 * np.pi * t / 12), t * 0], 1)
    starts = np.arange(0, 300 - 12)
    history = np.stack([series[s:s + 8] for s in starts])
    future = np.stack([series[s + 8:s + 12, :2] for s in starts])
    model = _model("direct", mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0], units=16)
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    keras.utils.set_random_seed(0)
    model.fit(history, future, batch_size=32, epochs=8, verbose=0)
    mse = np.mean((model.predict(history, verbose=0) - future) ** 2)
    repeat = np.mean((np.repeat(history[:, -1:, :2], 4, axis=1) - future) ** 2)
    assert mse < 0.25 * repeat


def _sine_windows(rows=300, noise=0.1):
    """Windows of lookback 8 and horizon 4 of two noisy sines and a flat covariate."""
    rng = np.random.default_rng(3)
    t = np.arange(rows, dtype=np.float32)
    series = np.stack([np.sin(2 * np.pi * t / 12) + 0.01 * t, np.cos(2 * np.pi * t / 7),
                       t * 0], 1) + noise * rng.normal(size=(rows, 3)).astype(np.float32)
    starts = np.arange(0, rows - 12)
    history = np.stack([series[s:s + 8] for s in starts])
    future = np.stack([series[s + 8:s + 12, :2] for s in starts])
    return history, future


@pytest.mark.parametrize("head", HEADS)
def test_with_a_highway_the_model_starts_as_the_linear_fit(head):
    # Lookback and window statistic span the lookback plus a bias: Zeng's Linear, whatever
    # the instance norm; at a negligible penalty both reach the same least-squares fit.
    from rnn_pipeline.tasks.forecast.series.baselines import Linear

    history, future = _sine_windows()
    model = _model(head, highway=True)
    fit_highway(model, history, future, ridge=1e-9)
    mean, std = np.array([10.0, 9.0, 8.0]), np.array([5.0, 4.0, 3.0])
    linear = Linear(ridge=1e-9).fit((history - mean) / std, (future - mean[:2]) / std[:2])
    expected = linear.predict((X - mean) / std, 4, 2) * std[:2] + mean[:2]
    np.testing.assert_allclose(model.linear_part(X), expected, rtol=1e-4, atol=1e-3)
    # The head's last layer starts at zero: the whole model is its linear part.
    np.testing.assert_allclose(model(X).numpy(), model.linear_part(X), rtol=1e-5, atol=1e-5)


def _seasonal_windows(rows=120, season=4, noise=0.0):
    """Windows (lookback 8, horizon 4) of a pattern repeating every ``season`` rows."""
    rng = np.random.default_rng(5)
    pattern = np.array([3.0, -1.0, 2.0, -4.0])[:season]
    series = np.tile(pattern, rows // season + 1)[:rows, None] * np.ones([1, 3])
    series = (series + noise * rng.normal(size=series.shape)).astype(np.float32)
    starts = np.arange(rows - 12)
    return (np.stack([series[s:s + 8] for s in starts]),
            np.stack([series[s + 8:s + 12, :2] for s in starts]))


def test_the_highway_chooses_its_penalty_and_prior_on_validation():
    history, future = _seasonal_windows(noise=1.0)  # few noisy windows: least squares overfits
    train, valid = (history[:6], future[:6]), (history[60:], future[60:])
    model = _model("direct", highway=True)
    choice = fit_highway(model, *train, valid=valid, season=4)
    assert choice["prior"] == "seasonal naive" and choice["ridge"] >= 1.0
    clean_history, clean_future = _seasonal_windows()
    plain = _model("direct", highway=True)
    fit_highway(plain, *train, ridge=1e-3)
    chosen = np.mean((model.linear_part(clean_history) - clean_future) ** 2)
    assert chosen < np.mean((plain.linear_part(clean_history) - clean_future) ** 2)
    # A season longer than the lookback offers no seasonal prior.
    assert fit_highway(model, *train, valid=valid, season=12)["prior"] == "zero"


def test_the_highway_is_channel_independent():
    model = _model("direct", highway=True, instance_norm="none")
    fit_highway(model, *_sine_windows())
    other = X.copy()
    other[:, :, 1] += 7.0  # only channel 1's history changes
    np.testing.assert_allclose(model.linear_part(other)[:, :, 0], model.linear_part(X)[:, :, 0],
                               rtol=1e-6)
    assert not np.allclose(model.linear_part(other)[:, :, 1], model.linear_part(X)[:, :, 1])


def test_a_trained_model_ends_no_worse_than_its_own_linear_part_on_the_training_windows():
    history, future = _sine_windows(noise=0.3)
    keras.utils.set_random_seed(0)
    model = _model("direct", mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0], units=8, highway=True)
    fit_highway(model, history, future)
    start = np.mean((model.linear_part(history) - future) ** 2)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    model.fit(history, future, batch_size=32, epochs=4, verbose=0)
    mse = np.mean((model.predict(history, verbose=0) - future) ** 2)
    linear = np.mean((model.linear_part(history) - future) ** 2)
    assert mse <= linear
    assert mse < start  # and the recurrent head learned something beyond the linear fit
