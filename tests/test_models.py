"""Backbone, causal LM and metric: config round trips, saving, refusals."""

import keras
import numpy as np
import pytest

from rnn_pipeline.config import ModelConfig
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.metrics import Perplexity
from rnn_pipeline.models import RNNBackbone, build_backbone
from rnn_pipeline.tasks.causal_lm.model import CausalLM, build_causal_lm
from rnn_pipeline.training.state import reset_states

IDS = np.array([[1, 2, 3, 4], [4, 3, 2, 1]], np.int32)


def _predict(model, ids=IDS):
    """The outputs for ``ids`` from zero states, by an eager call: the round trips compare
    weights and configs, which a traced predict step (one trace per model) adds nothing to."""
    reset_states(model)
    return model(ids, training=False).numpy()


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("tie", [False, True])
def test_causal_lm_config_and_keras_file_round_trip(tmp_path, cell, tie):
    model = build_causal_lm(ModelConfig(cell=cell, embedding_dim=3, units=3, num_layers=2,
                                        tie_weights=tie, dropout=0.1), 7, batch_size=2)
    clone = CausalLM.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    expected = _predict(model)
    assert expected.shape == (2, 4, 7)  # (batch, time, vocab)
    np.testing.assert_allclose(_predict(clone), expected, atol=1e-6)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert isinstance(loaded, CausalLM) and loaded.tie_weights == tie
    np.testing.assert_allclose(_predict(loaded), expected, atol=1e-6)


def test_tied_model_shares_the_embedding_matrix():
    tied = build_causal_lm(ModelConfig(embedding_dim=3, units=3, num_layers=1, tie_weights=True),
                           7, batch_size=2)
    untied = build_causal_lm(ModelConfig(embedding_dim=3, units=3, num_layers=1), 7, 2)
    assert untied.count_params() - tied.count_params() == 3 * 7  # no head kernel; a bias each
    assert tied.output_bias.bias.shape == (7,)


def test_tied_logits_are_hidden_times_embedding_transposed_plus_bias():
    model = build_causal_lm(ModelConfig(embedding_dim=3, units=3, num_layers=1,
                                        tie_weights=True), 7, batch_size=2)
    bias = np.arange(7, dtype=np.float32) / 7
    model.output_bias.bias.assign(bias)
    hidden = model.backbone(IDS, training=False).numpy()  # (batch, time, units)
    matrix = model.backbone.token_embedding.embeddings.numpy()  # (vocab, units)
    reset_states(model)
    np.testing.assert_allclose(model(IDS, training=False).numpy(), hidden @ matrix.T + bias,
                               atol=1e-5)


def test_backbone_round_trip_and_bidirectional_encoder():
    backbone = build_backbone(ModelConfig(cell="gru", units=3, embedding_dim=2, num_layers=2,
                                          bidirectional=True), 9)
    assert RNNBackbone.from_config(backbone.get_config()).get_config() == backbone.get_config()
    assert backbone(IDS).shape == (2, 4, 6)  # (batch, time, 2 * units): legal for an encoder


def test_bidirectional_language_model_is_refused():
    with pytest.raises(PipelineError) as info:
        build_causal_lm(ModelConfig(bidirectional=True, units=3, embedding_dim=3), 7, 2)
    assert "would see the very word it must predict" in str(info.value)
    assert str(info.value).startswith("model.bidirectional must be false for a causal language")


def test_tied_sizes_must_match():
    with pytest.raises(PipelineError, match=r"^model.tie_weights needs embedding_dim == units, "
                                            r"but embedding_dim=4 and units=3"):
        build_causal_lm(ModelConfig(embedding_dim=4, units=3, tie_weights=True), 7, 2)


@pytest.mark.parametrize("key, value, rule", [
    ("cell", "transformer", "must be one of: 'gru', 'lstm', 'simple_rnn'"),
    ("activation", "cube", "must be one of: 'tanh', 'relu'"),
    ("num_layers", 0, "must be at least 1"),
    ("dropout", 1.0, "must be in [0, 1)"),
])
def test_model_values_are_checked(key, value, rule):
    with pytest.raises(PipelineError) as info:
        build_causal_lm(ModelConfig(**{key: value}), 7, 2)
    assert rule in str(info.value) and f"Received: model.{key}={value!r}" in str(info.value)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "gelu"])
def test_simple_rnn_activation_is_used(activation):
    model = build_causal_lm(ModelConfig(cell="simple_rnn", activation=activation, units=2,
                                        embedding_dim=2, num_layers=1), 5, 2)
    assert model.backbone.rnn_layers[0].cell.activation is keras.activations.get(activation)


def test_init_scale_bounds_every_weight():
    model = build_causal_lm(ModelConfig(units=8, embedding_dim=8, num_layers=2, init_scale=0.05),
                            30, 2)
    for weight in model.weights:
        assert np.abs(weight.numpy()).max() <= 0.05 + 1e-7, weight.path


def test_perplexity_metric_ignores_zero_weights_and_round_trips():
    logits = np.log(np.array([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]], np.float32))
    metric = Perplexity()
    metric.update_state(np.array([[0, 1]]), logits, sample_weight=np.array([[1.0, 0.0]]))
    assert float(metric.result()) == pytest.approx(2.0)
    metric.update_state(np.array([[2, 1]]), logits, sample_weight=np.array([[1.0, 1.0]]))
    expected = np.exp(-(np.log(0.5) + np.log(0.25) + np.log(0.8)) / 3)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    assert Perplexity.from_config(metric.get_config()).name == "perplexity"


def test_loading_restores_the_compiled_optimizer_without_warnings(tmp_path):
    import warnings

    model = build_causal_lm(ModelConfig(embedding_dim=3, units=3, num_layers=1), 7, 2)
    model.compile(optimizer=keras.optimizers.SGD(0.5, momentum=0.9))
    model.fit(IDS, IDS, batch_size=2, epochs=3, verbose=0)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.models.load_model(tmp_path / "m.keras")
    assert [str(w.message) for w in caught] == []
    assert type(loaded.optimizer) is keras.optimizers.SGD
    assert int(loaded.optimizer.iterations) == 3
    assert loaded.optimizer.momentum == pytest.approx(0.9)


@pytest.mark.parametrize("options", [{"return_sequences": True},
                                     {"return_sequences": False, "return_state": True},
                                     {"return_sequences": True, "go_backwards": True}])
def test_projected_lstm_gives_keras_lstm_outputs_and_gradients(options):
    import tensorflow as tf

    from rnn_pipeline.models.cells import LSTM as ProjectedLSTM

    x = tf.constant(np.random.default_rng(0).normal(size=(3, 6, 5)).astype(np.float32))
    keras_lstm, projected = keras.layers.LSTM(4, **options), ProjectedLSTM(4, **options)
    keras_lstm(x), projected(x)
    projected.set_weights(keras_lstm.get_weights())
    results = []
    for layer in (keras_lstm, projected):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = tf.nest.flatten(layer(x))
            loss = sum(tf.reduce_sum(o * o) for o in outputs)
        results.append((outputs, tape.gradient(loss, [*layer.weights, x])))
    (a_out, a_grad), (b_out, b_grad) = results
    for a, b in zip(a_out + a_grad, b_out + b_grad):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)
    clone = ProjectedLSTM.from_config(projected.get_config())
    assert clone.get_config() == projected.get_config()


def test_a_run_saved_with_keras_lstm_layers_loads(tmp_path, monkeypatch):
    from rnn_pipeline.choices import CELLS
    from rnn_pipeline.models import cells

    def keras_lstm(units, activation="tanh", init_scale=None, seed=0, recurrent_initializer=None,
                   **kwargs):  # what the lstm cell built before the projected LSTM
        return keras.layers.LSTM(units, activation=activation, **kwargs)

    monkeypatch.setitem(CELLS._entries, "lstm", keras_lstm)
    old = build_causal_lm(ModelConfig(embedding_dim=3, units=3, num_layers=2), 7, batch_size=2)
    assert type(old.backbone.rnn_layers[0]) is keras.layers.LSTM
    old.save(tmp_path / "old.keras")
    monkeypatch.setitem(CELLS._entries, "lstm", cells.lstm)
    loaded = keras.models.load_model(tmp_path / "old.keras", compile=False)
    assert type(loaded.backbone.rnn_layers[0]) is cells.LSTM
    np.testing.assert_allclose(_predict(loaded), _predict(old), atol=1e-6)


def test_bidirectional_layers_built_while_a_keras_file_loads_stay_separate():
    """`keras.saving.load_model` keys object sharing by `id()`; a Bidirectional wrapper's
    freed copy of its layer must not enter those maps, or a later wrapper whose layer
    reuses the address gets the earlier wrapper's backward layer as its forward one."""
    from keras.src.saving.serialization_lib import ObjectSharingScope
    from keras.src.backend.common import global_state

    from rnn_pipeline.models.cells import recurrent_layer

    with ObjectSharingScope():
        wrappers = [recurrent_layer("lstm", 2, i, bidirectional=True) for i in range(3)]
        recorded = global_state.get_global_attribute("shared_objects/id_to_config_map")
        assert recorded == {}
    assert [(w.forward_layer.go_backwards, w.backward_layer.go_backwards)
            for w in wrappers] == [(False, True)] * 3
    inner = {id(layer) for w in wrappers for layer in (w.forward_layer, w.backward_layer)}
    assert len(inner) == 6
    assert global_state.get_global_attribute("shared_objects/id_to_config_map") is None
