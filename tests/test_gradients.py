"""Gradient diagnostics: norms through time, the per-step monitor, clipping counts, NaN stop,
activations and recurrent initialisers, and ``rnn-pipeline diagnose``."""

import csv

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from conftest import tiny_config
from rnn_pipeline import config as config_lib
from rnn_pipeline.cli.main import cli
from rnn_pipeline.config.schema import ModelConfig, TrainConfig
from rnn_pipeline.diagnostics.bounds import activation_derivative_bound, simple_rnn_bounds
from rnn_pipeline.diagnostics.forward_state import forward_state_peaks
from rnn_pipeline.diagnostics.through_time import decay_per_step, state_gradient_norms
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.causal_lm.model import build_causal_lm
from rnn_pipeline.models.backbone import RNNBackbone
from rnn_pipeline.training import trainer
from rnn_pipeline.training.gradients import (GradientLog, GradientMonitor, TrainingDiverged,
                                             read_gradient_log)
from rnn_pipeline.tasks.causal_lm.perplexity import nonfinite_warning

VOCAB = 3


def _simple_rnn_lm(recurrent, units=2, activation="tanh", **model):
    """A SimpleRNN LM with zero input weights, W_h = ``recurrent`` and a fixed head."""
    config = ModelConfig(cell="simple_rnn", units=units, embedding_dim=3, num_layers=1,
                         activation=activation, **model)
    lm = build_causal_lm(config, VOCAB, batch_size=2)
    cell = lm.backbone.rnn_layers[0].cell
    cell.kernel.assign(np.zeros((3, units)))
    cell.recurrent_kernel.assign(recurrent)
    cell.bias.assign(np.zeros(units))
    head = np.zeros((units, VOCAB))
    head[0, 0] = head[1, 1] = 1.0
    lm.lm_head.kernel.assign(head)
    lm.lm_head.bias.assign(np.zeros(VOCAB))
    return lm


IDS = np.array([[0, 1, 2, 1, 0], [1, 1, 0, 2, 2]])
TARGETS = np.array([[0, 0, 0, 0, 2], [0, 0, 0, 0, 2]])


def test_norms_through_time_match_a_hand_computation():
    # h_t = tanh(0 * x_t + 0.5 h_{t-1}) from h_0 = 0 stays 0, so tanh' = 1 and
    # dL/dh_t = 0.5^(T-t) dL/dh_T. Logits are 0 -> p = 1/3 each; the target is 2, so
    # dL/dlogits = (1/3, 1/3, -2/3) and dL/dh_T = head @ that = (1/3, 1/3): norm sqrt(2)/3.
    norms = state_gradient_norms(_simple_rnn_lm(0.5 * np.eye(2)), IDS, TARGETS)
    expected = np.sqrt(2) / 3 * 0.5 ** np.arange(4, -1, -1)
    np.testing.assert_allclose(norms[0], expected, rtol=1e-5)
    change, distance = decay_per_step(norms[0])
    assert distance == 4 and change == pytest.approx(4 * np.log10(0.5), abs=1e-5)


def test_irnn_keeps_the_gradient_exactly():
    # relu with W_h = I (IRNN), a zero input weight and bias 1: h_t = h_{t-1} + 1 > 0, so
    # every Jacobian is I. h_5 = (5, 5): logits (5, 5, 0), p = softmax, target 2, and
    # dL/dh_5 = (p_0, p_1) at every distance.
    lm = _simple_rnn_lm(np.eye(2), activation="relu", recurrent_initializer="identity")
    lm.backbone.rnn_layers[0].cell.bias.assign(np.ones(2))
    norms = state_gradient_norms(lm, IDS, TARGETS)
    p = np.exp([5.0, 5.0, 0.0]) / np.exp([5.0, 5.0, 0.0]).sum()
    np.testing.assert_allclose(norms[0], np.sqrt(2) * p[0], rtol=1e-5)


def test_stacked_gated_cells_report_every_layer():
    config = ModelConfig(cell="lstm", units=3, embedding_dim=3, num_layers=2)
    norms = state_gradient_norms(build_causal_lm(config, 5, batch_size=2), IDS, TARGETS)
    assert norms.shape == (2, 5) and np.all(norms > 0) and np.all(np.isfinite(norms))


@pytest.mark.parametrize("name, bound", [("tanh", 1.0), ("sigmoid", 0.25), ("relu", 1.0),
                                         ("leaky_relu", 1.0), ("gelu", 1.1289),
                                         ("swish", 1.0998)])
def test_activation_derivative_bounds(name, bound):
    assert activation_derivative_bound(name) == pytest.approx(bound, abs=2e-4)


def test_simple_rnn_bound_is_the_spectral_norm_times_the_derivative_bound():
    lm = _simple_rnn_lm(np.array([[0.0, 3.0], [0.5, 0.0]]), activation="sigmoid")
    (bound,) = simple_rnn_bounds(lm.backbone)
    assert bound.spectral_norm == pytest.approx(3.0)
    assert bound.gamma == pytest.approx(0.75, abs=1e-4)
    assert "gamma = 0.750 (the gradient must vanish" in bound.line()


def test_recurrent_initializers():
    for name, check in (("identity", lambda w: np.allclose(w, np.eye(4))),
                        ("orthogonal", lambda w: np.allclose(w @ w.T, np.eye(4), atol=1e-5)),
                        ("glorot_uniform", lambda w: np.abs(w).max() <= np.sqrt(6 / 8))):
        backbone = RNNBackbone(7, cell="simple_rnn", units=4, embedding_dim=4, num_layers=1,
                               recurrent_initializer=name)
        w_h = keras.ops.convert_to_numpy(backbone.rnn_layers[0].cell.recurrent_kernel)
        assert check(w_h), name
        restored = RNNBackbone.from_config(backbone.get_config())
        assert restored.recurrent_initializer == name
    with pytest.raises(PipelineError, match="^recurrent_initializer must be one of: "
                                            "'glorot_uniform', 'identity', 'orthogonal'"):
        RNNBackbone(7, cell="gru", units=4, recurrent_initializer="eye")
    with pytest.raises(PipelineError, match="cannot be combined with init_scale"):
        RNNBackbone(7, cell="gru", units=4, recurrent_initializer="identity", init_scale=0.1)


# --- the forward state --------------------------------------------------------------

def _state_windows(windows, bptt=5):
    ids = np.zeros([windows, 2, bptt], np.int32)  # the input weights are 0: ids do not matter
    return tf.data.Dataset.from_tensor_slices((ids, ids))


def test_forward_state_grows_as_a_hand_computation_and_its_overflow_is_found():
    # relu, W_h = 0.5 I, bias 1: h_t = 0.5 h_{t-1} + 1 = 2 (1 - 0.5^t); after 2 windows of 5
    # steps h_10 = 2 (1 - 2^-10).
    lm = _simple_rnn_lm(0.5 * np.eye(2), activation="relu")
    lm.backbone.rnn_layers[0].cell.bias.assign(np.ones(2))
    state = forward_state_peaks(lm, _state_windows(2))
    assert (state.windows, state.overflow) == (2, None)
    assert state.peaks == [pytest.approx(2 * (1 - 2 ** -10))]
    assert state.line("valid") == ("forward state: reading the valid split from a zero state "
                                   f"(2 windows), the largest |state| is 2 ({state.layers[0]})")
    # W_h = 2 I: h_t = 2^t - 1 overflows float32 at t = 128, in window 26 (steps 126-130).
    lm.backbone.rnn_layers[0].cell.recurrent_kernel.assign(2 * np.eye(2))
    state = forward_state_peaks(lm, _state_windows(40))
    assert (state.windows, state.overflow, state.overflowing) == (26, 25, state.layers)
    assert state.peaks == [pytest.approx(2.0 ** 125 - 1, rel=1e-6)]  # h_125, end of window 25
    assert "overflows float32 in window 26 (largest finite |state| before: 4.25e+37)" in \
        state.line("valid")
    assert all(not np.any(keras.ops.convert_to_numpy(s)) for s in
               lm.backbone.rnn_layers[0].states)  # reset afterwards


def test_a_non_finite_perplexity_after_training_is_a_warning_naming_diagnose():
    final = {"train_perplexity": 5.0, "valid_perplexity": float("nan"),
             "test_perplexity": float("inf")}
    assert nonfinite_warning(final, "runs/x") == (
        "Warning: the valid, test perplexity is not finite although every training step was "
        "finite. `rnn-pipeline diagnose runs/x` shows whether the carried state overflows.")
    assert nonfinite_warning({**final, "valid_perplexity": 3.0, "test_perplexity": 4.0},
                             "runs/x") is None


# --- the per-step monitor --------------------------------------------------------------

def _tiny_lm(optimizer):
    config = ModelConfig(cell="gru", units=3, embedding_dim=3, num_layers=1)
    lm = build_causal_lm(config, 6, batch_size=2)
    lm.compile(optimizer=optimizer)
    return lm


def _constant_gradients(lm, values):
    """Gradients of the trainable variables: 0 except ``values`` {layer: first entries}."""
    grads = []
    for variable in lm.trainable_variables:
        g = np.zeros(variable.shape, np.float32)
        layer = variable.path.split("/")[0]
        if layer in values and not values[layer] is None:
            g.reshape(-1)[:len(values[layer])] = values[layer]
            values = {**values, layer: None}  # only the layer's first variable
        grads.append(tf.constant(g))
    return grads


@pytest.mark.parametrize("clipping, clipped", [({"global_clipnorm": 4.0}, True),
                                               ({"global_clipnorm": 6.0}, False),
                                               ({"clipnorm": 3.5}, True),
                                               ({"clipnorm": 4.5}, False), ({}, False)])
def test_monitor_norms_and_clipping_of_one_step(clipping, clipped):
    lm = _tiny_lm(keras.optimizers.SGD(0.1, **clipping))
    monitor = GradientMonitor(lm, lm.optimizer)
    assert monitor.layer_names == ["token_embedding", "gru_0", "lm_head"]
    grads = _constant_gradients(lm, {"token_embedding": [3.0], "gru_0": [4.0],
                                     "lm_head": [0.0]})
    finite = monitor.observe(tf.constant(1.5), grads, lm.trainable_variables)
    assert bool(finite)
    assert float(monitor.norm.numpy()) == pytest.approx(5.0)  # sqrt(3^2 + 4^2)
    np.testing.assert_allclose(monitor.layer_norms.numpy(), [3.0, 4.0, 0.0])
    assert bool(monitor.clipped.numpy()) is clipped


def test_monitor_flags_non_finite_layers():
    lm = _tiny_lm("sgd")
    monitor = GradientMonitor(lm, lm.optimizer)
    grads = _constant_gradients(lm, {"gru_0": [np.inf], "lm_head": [np.nan]})
    assert not bool(monitor.observe(tf.constant(1.0), grads, lm.trainable_variables))
    np.testing.assert_array_equal(monitor.nonfinite_layers.numpy(), [False, True, True])
    assert float(monitor.steps.numpy()) == 0.0  # the epoch means skip it


def test_a_finite_gradient_whose_norm_overflows_float32_is_not_applied():
    # Every entry is finite, but 1e20^2 overflows float32: Keras' global clipping would
    # divide by an infinite norm and turn the weights into NaN.
    lm = _tiny_lm(keras.optimizers.SGD(0.1, global_clipnorm=1.0))
    monitor = GradientMonitor(lm, lm.optimizer)
    grads = _constant_gradients(lm, {"gru_0": [1e20]})
    assert not bool(monitor.observe(tf.constant(1.0), grads, lm.trainable_variables))
    np.testing.assert_array_equal(monitor.nonfinite_layers.numpy(), [False, True, False])
    # Two variables of norm 1.5e19 each: each square is finite, their sum is not.
    grads = _constant_gradients(lm, {"token_embedding": [1.5e19], "gru_0": [1.5e19]})
    assert not bool(monitor.observe(tf.constant(1.0), grads, lm.trainable_variables))
    assert not monitor.nonfinite_layers.numpy().any()
    assert float(monitor.norm.numpy()) == np.inf


def test_monitor_takes_a_sparse_gradient_with_repeated_rows_without_densifying():
    lm = _tiny_lm("sgd")
    monitor = GradientMonitor(lm, lm.optimizer)
    grads = _constant_gradients(lm, {})
    # Row 2 twice ([1, 2] + [2, 0] = [3, 2]) and row 5 once: dense norm sqrt(9 + 4 + 16).
    grads[0] = tf.IndexedSlices(tf.constant([[1.0, 2.0, 0.0], [2.0, 0.0, 0.0],
                                             [0.0, 4.0, 0.0]]),
                                tf.constant([2, 2, 5]), dense_shape=tf.constant([6, 3]))
    assert bool(monitor.observe(tf.constant(1.0), grads, lm.trainable_variables))
    assert float(monitor.layer_norms.numpy()[0]) == pytest.approx(29 ** 0.5)
    grads[0] = tf.IndexedSlices(tf.constant([[np.nan, 0.0, 0.0]]), tf.constant([1]),
                                dense_shape=tf.constant([6, 3]))
    assert not bool(monitor.observe(tf.constant(1.0), grads, lm.trainable_variables))
    np.testing.assert_array_equal(monitor.nonfinite_layers.numpy(), [True, False, False])


def _batches(rows):
    ids = np.array(rows, np.int32)
    return tf.data.Dataset.from_tensor_slices((ids[:, :-1], ids[:, 1:])).batch(2)


ROWS = [[0, 1, 2, 3, 4], [1, 2, 3, 4, 0], [2, 3, 4, 0, 1], [3, 4, 0, 1, 2],
        [4, 0, 1, 2, 3], [0, 2, 4, 1, 3]]


def _independent_norms(lm, data):
    norms = []
    for x, y in data:
        with tf.GradientTape() as tape:
            loss = lm.compute_loss(x=x, y=y, y_pred=lm(x, training=True))
        grads = tape.gradient(loss, lm.trainable_variables)
        norms.append(float(tf.linalg.global_norm([tf.convert_to_tensor(g) for g in grads])))
    return norms


def test_fit_logs_the_norm_before_clipping_and_counts_clipped_steps(tmp_path):
    # Learning rate 0: the weights never move, so every step's norm is the norm of a
    # fresh tape on the same batch; the threshold sits between the two largest norms.
    lm = _tiny_lm(keras.optimizers.SGD(0.0, global_clipnorm=1.0))
    data = _batches(ROWS)
    expected = _independent_norms(lm, data)
    low, middle, high = sorted(expected)  # three batches
    assert high - middle > 1e-3 * high  # the threshold is clear of float32 round-off
    threshold = (middle + high) / 2
    lm.compile(optimizer=keras.optimizers.SGD(0.0, global_clipnorm=threshold))
    log = GradientLog(tmp_path / "gradients.csv")
    rows = trainer.fit(lm, data, data, TrainConfig(epochs=2, batch_size=2), callbacks=[log],
                       verbose=0)
    columns = read_gradient_log(tmp_path / "gradients.csv")
    np.testing.assert_allclose(columns["grad_norm"], expected * 2, rtol=1e-4)
    np.testing.assert_array_equal(columns["clipped"], [n > threshold for n in expected] * 2)
    share = np.mean([n > threshold for n in expected])
    assert [row["clipped_share"] for row in rows] == pytest.approx([share, share])
    assert rows[0]["grad_norm"] == pytest.approx(np.mean(expected), rel=1e-4)
    assert rows[0]["grad_norm_gru_0"] > 0


def test_an_injected_nan_stops_training_names_the_step_and_keeps_the_weights(tmp_path):
    lm = _tiny_lm(keras.optimizers.Adam(0.01))
    table = lm.backbone.token_embedding.embeddings
    poisoned = keras.ops.convert_to_numpy(table).copy()
    poisoned[5] = np.nan  # token 5 appears only in the third batch
    table.assign(poisoned)
    data = _batches(ROWS[:4] + [[5, 5, 5, 5, 5], [0, 1, 2, 3, 4]])
    seen = []

    class Weights(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append([keras.ops.convert_to_numpy(w).copy() for w in lm.weights])

    last_good = tmp_path / "last_good.weights.h5"
    log = GradientLog(tmp_path / "gradients.csv", last_good_path=last_good)
    with pytest.raises(TrainingDiverged) as caught:
        trainer.fit(lm, data, data, TrainConfig(epochs=3, batch_size=2),
                    callbacks=[Weights(), log], verbose=0)
    message = str(caught.value)
    assert message.startswith("Training stopped at step 3 (epoch 1, batch 3): the loss is nan "
                              "and the gradients of lm_head, gru_0, token_embedding are not "
                              "finite or their norm overflows float32")
    assert f"after step 2) are saved as {last_good}" in message
    for before, after in zip(seen[1], seen[2]):  # step 3 was not applied
        np.testing.assert_array_equal(before, after)
    restored = _tiny_lm("sgd")
    restored.load_weights(last_good)
    for saved, current in zip(restored.weights, lm.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(saved),
                                      keras.ops.convert_to_numpy(current))
    columns = read_gradient_log(tmp_path / "gradients.csv")
    assert list(columns["finite"]) == [1, 1, 0]


# --- rnn-pipeline diagnose ---------------------------------------------------------------

def _pipeline(tiny_corpus, tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(config_lib.dumps(tiny_config(
        tiny_corpus, model={"cell": "simple_rnn"},
        train={"bptt": 4, "global_clipnorm": 0.5})))
    return path


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.slow  # 9 s; test_every_command runs diagnose on a run on 2 cores: the slow suite runs it
def test_diagnose_a_pipeline_and_a_run(tiny_corpus, tmp_path):
    pipeline = _pipeline(tiny_corpus, tmp_path)
    out = tmp_path / "diag"
    result = _run("diagnose", pipeline, "--cells", "simple_rnn,lstm", "--steps", 8,
                  "--batch", 2, "--train-steps", 3, "--out", out)
    assert result.exit_code == 0, result.output
    assert "simple_rnn: over the 7 steps before the loss, the gradient of the first layer's " \
           "state fresh: falls by a factor 10^" in result.output
    assert "fresh simple_rnn_0: sigma_max(W_h) = 1.000" in result.output  # orthogonal init
    with open(out / "gradients_through_time.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 8  # cells x (fresh, trained) x steps
    assert (out / "gradients_through_time.png").stat().st_size > 10_000

    run = tmp_path / "run"
    assert _run("fit", pipeline, "--run-dir", run).exit_code == 0
    result = _run("diagnose", run, "--steps", 8, "--batch", 2)
    assert result.exit_code == 0, result.output
    assert "simple_rnn: over the 7 steps" in result.output and "the run's trained" in \
        result.output
    assert "clipping: " in result.output and "global_clipnorm 0.5" in result.output
    assert (run / "diagnostics" / "clipping.png").is_file()
    assert (run / "gradients.csv").is_file()
    assert "forward state: reading the valid split from a zero state (" in result.output


def test_fit_that_diverges_exits_1_naming_the_step_and_the_saved_weights(tiny_corpus, tmp_path):
    pipeline = tmp_path / "diverging.toml"
    pipeline.write_text(config_lib.dumps(tiny_config(
        tiny_corpus, model={"cell": "simple_rnn", "activation": "relu"},
        train={"optimizer": "sgd", "learning_rate": 1e30})))
    run = tmp_path / "run"
    result = _run("fit", pipeline, "--run-dir", run)
    assert result.exit_code == 1
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and error[0].startswith("Error: Training stopped at step 2 (epoch 1, "
                                                   "batch 2): the loss is nan")
    assert str(run / "last_good.weights.h5") in error[0]
    assert (run / "last_good.weights.h5").is_file() and not (run / "model.keras").exists()


@pytest.mark.parametrize("options, message", [
    (["--cells", "lstm,rnn"], "Error: --cells must be one of: 'gru', 'lstm', 'simple_rnn'. "
                              "Received: --cells='rnn'\n"),
    (["--steps", 5000], "Error: --steps must be shorter than the training text (180 tokens). "
                        "Received: --steps=5000\n")])
def test_diagnose_refuses_bad_options_in_one_line_and_writes_nothing(tiny_corpus, tmp_path,
                                                                     options, message):
    pipeline = _pipeline(tiny_corpus, tmp_path)
    result = _run("diagnose", pipeline, *options, "--out", tmp_path / "d")
    assert result.exit_code == 2
    assert result.output.endswith(message) and result.output.count("Error:") == 1
    assert not (tmp_path / "d").exists()


def test_adding_problem_batches():
    from rnn_pipeline.diagnostics.adding import ALWAYS_ONE_MSE, adding_batch

    x, y = adding_batch(tf.constant([3, 4]), 500, 10)
    x, y = x.numpy(), y.numpy()
    markers = x[..., 1]
    assert x.shape == (500, 10, 2) and y.shape == (500, 1)
    np.testing.assert_array_equal(markers[:, :5].sum(1), 1)  # one marker in each half
    np.testing.assert_array_equal(markers[:, 5:].sum(1), 1)
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * markers).sum(1), rtol=1e-6)
    np.testing.assert_array_equal(adding_batch(tf.constant([3, 4]), 500, 10)[0].numpy(), x)
    assert ALWAYS_ONE_MSE == pytest.approx(np.mean((y - 1.0) ** 2), abs=0.03)
