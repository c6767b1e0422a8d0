"""The training recurrences of an LSTM layer (`rnn_pipeline.models.recurrence`): the same
loss and gradients as Keras' loop, training only, never in an export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.export import export_saved_model
from rnn_pipeline.export.graph_checks import op_names, read_saved_model
from rnn_pipeline.models.cells import lstm
from rnn_pipeline.models.nll import token_nll
from rnn_pipeline.models.recurrence import MAX_UNROLLED_STEPS, applies, set_training_recurrence
from rnn_pipeline.tasks.causal_lm.serving import LanguageModelServing
from tests_support import tiny_lm

RNG = np.random.default_rng(0)
X = tf.constant(RNG.normal(size=(3, 5, 4)).astype("float32"))  # (batch, time, features)
TARGET = tf.constant(RNG.normal(size=(3, 5, 6)).astype("float32"))
H0, C0 = (tf.constant(RNG.normal(size=(3, 6)).astype("float32")) for _ in range(2))


def loss_and_gradients(recurrence, stateful=False):
    """A 6-unit LSTM (nonzero bias, initial states) trained one step with ``recurrence``:
    the loss reads every output and both final states."""
    inputs = keras.Input(batch_shape=(3, 5, 4))
    layer = lstm(6, init_scale=0.5, seed=3, return_sequences=True, return_state=True,
                 stateful=stateful)
    outputs, h, c = layer(inputs)
    model = keras.Model(inputs, [outputs, h, c])
    assert set_training_recurrence(model, recurrence) == 1
    if stateful:
        layer.states[0].assign(H0)
        layer.states[1].assign(C0)
    with tf.GradientTape() as tape:
        tape.watch(X)
        outputs, h, c = model(X, training=True)
        loss = tf.reduce_sum(outputs * TARGET) + tf.reduce_sum(1.3 * c) + tf.reduce_sum(0.7 * h)
    names = ["x", *(w.name for w in model.trainable_weights)]
    gradients = tape.gradient(loss, [X, *model.trainable_weights])
    return float(loss), dict(zip(names, (g.numpy() for g in gradients))), layer


@pytest.mark.parametrize("recurrence", ["unrolled", "fused"])
@pytest.mark.parametrize("stateful", [False, True])
def test_each_recurrence_gives_keras_loss_and_gradients(recurrence, stateful):
    loss, gradients, layer = loss_and_gradients(recurrence, stateful)
    keras_loss, keras_gradients, keras_layer = loss_and_gradients("loop", stateful)
    assert loss == pytest.approx(keras_loss, rel=1e-5)
    assert sorted(gradients) == ["bias", "kernel", "recurrent_kernel", "x"]
    for name, value in keras_gradients.items():
        np.testing.assert_allclose(gradients[name], value, atol=1e-5, rtol=1e-5, err_msg=name)
    assert np.abs(keras_gradients["bias"]).max() > 0.1  # a real gradient, checked
    if stateful:  # the carried state is the same too
        for mine, theirs in zip(layer.states, keras_layer.states):
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-6)


def test_tensorflows_registered_block_lstm_v2_gradient_is_why_fused_has_its_own():
    """The registered gradient of BlockLSTMV2 calls the V1 grad op (other gate order):
    its bias gradient differs from Keras'. `fused` matches (the test above)."""
    _, keras_gradients, layer = loss_and_gradients("loop")
    kernel, recurrent, bias = (tf.identity(w) for w in layer.cell.weights)
    zeros = tf.zeros([6])
    with tf.GradientTape() as tape:
        tape.watch(bias)
        out = tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.constant(5, tf.int64), x=tf.transpose(X, [1, 0, 2]),
            cs_prev=tf.zeros([3, 6]), h_prev=tf.zeros([3, 6]),
            w=tf.concat([kernel, recurrent], 0), wci=zeros, wcf=zeros, wco=zeros, b=bias,
            cell_clip=-1.0, use_peephole=False)
        outputs = tf.transpose(out.h, [1, 0, 2])
        loss = (tf.reduce_sum(outputs * TARGET) + tf.reduce_sum(1.3 * out.cs[-1])
                + tf.reduce_sum(0.7 * out.h[-1]))
    registered = tape.gradient(loss, bias).numpy()
    assert np.abs(registered - keras_gradients["bias"]).max() > 1e-2  # wrong


def test_where_a_path_does_not_apply_the_layer_runs_keras_loop():
    layer = lstm(6)
    layer.build((None, 5, 4))
    layer.training_recurrence = "unrolled"
    x = tf.zeros([2, 5, 4])
    assert applies(layer, x, None)
    assert not applies(layer, x, tf.ones([2, 5], bool))  # a mask
    assert not applies(layer, tf.zeros([2, MAX_UNROLLED_STEPS + 1, 4]), None)
    layer.training_recurrence = "fused"
    assert applies(layer, tf.zeros([2, MAX_UNROLLED_STEPS + 1, 4]), None)
    assert not applies(lstm(6, activation="relu"), x, None)
    assert not applies(lstm(6, go_backwards=True), x, None)
    reversed_layer = lstm(6, go_backwards=True)
    reversed_layer.training_recurrence = "unrolled"
    out = reversed_layer(X, training=True)  # runs (Keras' loop) instead of failing
    assert out.shape == (3, 6)


def test_an_unknown_recurrence_lists_the_valid_ones():
    with pytest.raises(PipelineError, match="train.recurrence.*'fused', 'loop', 'unrolled'"):
        set_training_recurrence(tiny_lm(), "cudnn")


def test_a_model_trained_unrolled_exports_keras_loop_only(tmp_path):
    """The recurrence is not part of any config; an export runs the generic ops."""
    model = tiny_lm()
    before = model.get_config()
    set_training_recurrence(model, "unrolled")
    model.compile(optimizer="sgd")
    ids = tf.constant([[1, 2, 3, 4], [4, 3, 2, 1]], tf.int32)
    model.train_step((ids, ids, tf.ones([2, 4])))
    assert model.get_config() == before
    path, _ = export_saved_model(lambda assets: LanguageModelServing(model, assets), tmp_path,
                                 "tiny")
    proto = read_saved_model(path)
    ops = op_names(proto)
    assert "BlockLSTMV2" not in ops and "XlaLaunch" not in ops
    compiled = [f.signature.name for g in proto.meta_graphs for f in g.graph_def.library.function
                if f.attr["_XlaMustCompile"].b]
    assert compiled == []


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_token_nll_is_tensorflows_softmax_cross_entropy(dtype):
    logits = tf.cast(tf.constant(RNG.normal(size=(2, 3, 7)).astype("float32")), dtype)
    labels = tf.constant([[0, 6, 3], [2, 2, 5]])
    weights = tf.constant(RNG.normal(size=(2, 3)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        mine = tf.reduce_sum(token_nll(logits, labels) * weights)
        theirs = tf.reduce_sum(weights * tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels, tf.cast(logits, tf.float32)))
    assert float(mine) == pytest.approx(float(theirs), rel=1e-6)
    tolerance = 1e-6 if dtype == "float32" else 1e-2  # bfloat16 keeps 8 bits
    np.testing.assert_allclose(tf.cast(tape.gradient(mine, logits), tf.float32),
                               tf.cast(tape.gradient(theirs, logits), tf.float32),
                               atol=tolerance)
