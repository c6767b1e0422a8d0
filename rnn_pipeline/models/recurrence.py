"""How an LSTM layer runs its recurrence while it trains (one registry: ``train.recurrence``).

* ``loop``: Keras' own loop (`keras.layers.LSTM`, with the input projection hoisted,
  `rnn_pipeline.models.cells.LSTM`); its gradient is the loop's automatic one.
* ``unrolled``: the recurrence written out for the window's fixed length, with a
  hand-written gradient (`unrolled_lstm`): one small GEMM per step forward and one
  backward, and the weights' gradients as three GEMMs over the whole window after the
  backward loop, as cuDNN and oneDNN do (the automatic gradient multiplies per step).
* ``fused``: core TensorFlow's fused CPU kernels, ``BlockLSTMV2`` forward and
  ``BlockLSTMGradV2`` backward (`fused_lstm`); they have no XLA kernel, so this needs
  ``train.jit_compile = false``.

Only training uses them: evaluation, generation and every export run Keras' loop, so a
SavedModel holds the generic ops alone. Where a path does not apply (a mask, a reversed
layer, cell dropout, other activations, a length unknown when traced, a visible GPU, where
Keras runs cuDNN) the layer runs ``loop``. Each path gives Keras' outputs and gradients to float32 round-off
(tests/test_recurrence.py).
"""

import keras
import tensorflow as tf

from rnn_pipeline.choices import RECURRENCES

MAX_UNROLLED_STEPS = 128  # longer windows run the loop: the graph grows with each step


@tf.function(jit_compile=True)
def _unrolled_forward(projected, h, c, recurrent_kernel):
    """The steps of `unrolled_lstm`, compiled by XLA as one cluster; returns the outputs
    and what the gradient reads: the gates and every step's h and c."""
    hs, cs, gates = [h], [c], []
    for t in range(projected.shape[1]):
        z = projected[:, t] + tf.matmul(hs[-1], recurrent_kernel)  # (batch, 4 * units)
        z_i, z_f, z_g, z_o = tf.split(z, 4, axis=1)  # Keras' gate order
        i, f, g, o = tf.sigmoid(z_i), tf.sigmoid(z_f), tf.tanh(z_g), tf.sigmoid(z_o)
        cs.append(f * cs[-1] + i * g)
        hs.append(o * tf.tanh(cs[-1]))
        gates.append(tf.concat([i, f, g, o], axis=1))
    # (batch, time + 1, units) twice, (batch, time, 4 * units)
    return tf.stack(hs, axis=1), tf.stack(cs, axis=1), tf.stack(gates, axis=1)


@tf.function(jit_compile=True)
def _unrolled_backward(recurrent_kernel, hs, cs, gates, d_outputs, d_h, d_c):
    """The gradient of `_unrolled_forward` (one XLA cluster): one small GEMM per step,
    then the recurrent kernel's gradient as one GEMM over the whole window."""
    steps = gates.shape[1]
    d_z = [None] * steps
    for t in reversed(range(steps)):
        i, f, g, o = tf.split(gates[:, t], 4, axis=1)
        d_h = d_outputs[:, t] + d_h
        tanh_c = tf.tanh(cs[:, t + 1])
        d_c = d_c + d_h * o * (1 - tanh_c * tanh_c)
        d_z[t] = tf.concat([d_c * g * i * (1 - i), d_c * cs[:, t] * f * (1 - f),
                            d_c * i * (1 - g * g), d_h * tanh_c * o * (1 - o)], axis=1)
        d_c = d_c * f
        d_h = tf.matmul(d_z[t], recurrent_kernel, transpose_b=True)
    d_z = tf.stack(d_z, axis=1)  # (batch, time, 4 * units)
    previous = tf.reshape(hs[:, :-1], [-1, hs.shape[-1]])  # (batch * time, units)
    d_recurrent = tf.matmul(previous, tf.reshape(d_z, [-1, d_z.shape[-1]]), transpose_a=True)
    return d_z, d_h, d_c, d_recurrent


@tf.custom_gradient
def _unrolled_recurrence(projected, h, c, recurrent_kernel):
    hs, cs, gates = _unrolled_forward(projected, h, c, recurrent_kernel)

    def gradient(d_outputs, d_h, d_c):
        return _unrolled_backward(recurrent_kernel, hs, cs, gates, d_outputs, d_h, d_c)

    return (hs[:, 1:], hs[:, -1], cs[:, -1]), gradient


def unrolled_lstm(x, h, c, kernel, recurrent_kernel, bias, projection_dtype=None):
    """An LSTM over a window of static length. The input projection of every step is one
    GEMM (oneDNN's; its gradient is TensorFlow's); the recurrence runs forward and
    backward each as one XLA cluster, in float32 (also inside a step that is not
    compiled: run op by op, the ~2,000 small ops of a 35-step window cost more than
    their arithmetic).

    Args:
        x: (batch, time, features).
        h, c: (batch, units) the initial states.
        kernel: (features, 4 * units); recurrent_kernel: (units, 4 * units);
        bias: (4 * units,), all in Keras' gate order (i, f, c, o).
        projection_dtype: the input projection's dtype (e.g. "bfloat16"; default ``x``'s).

    Returns:
        (outputs (batch, time, units), last h, last c), in ``x``'s dtype.
    """
    low = projection_dtype or x.dtype
    projected = tf.matmul(tf.cast(x, low), tf.cast(kernel, low))  # (batch, time, 4 * units)
    projected = tf.cast(projected, tf.float32) + tf.cast(bias, tf.float32)
    f32 = [tf.cast(v, tf.float32) for v in (h, c, recurrent_kernel)]
    return tuple(tf.cast(v, x.dtype) for v in _unrolled_recurrence(projected, *f32))


@tf.custom_gradient
def _block_lstm(x, h, c, weights, bias):
    """``BlockLSTMV2`` over time-major ``x``; the gradient calls ``BlockLSTMGradV2``.

    TensorFlow's registered gradient of ``BlockLSTMV2`` calls the V1 gradient op, which
    assumes the other gate order (i, c, f, o) and a forget bias: its bias gradient is wrong.
    """
    steps = tf.shape(x, out_type=tf.int64)[0]
    peepholes = tf.zeros(tf.shape(bias)[:1] // 4, x.dtype)  # (units,): none
    block = dict(seq_len_max=steps, x=x, cs_prev=c, h_prev=h, w=weights, wci=peepholes,
                 wcf=peepholes, wco=peepholes, b=bias, use_peephole=False)
    out = tf.raw_ops.BlockLSTMV2(cell_clip=-1.0, **block)  # cell_clip < 0: none

    def gradient(d_outputs, d_c):
        d_cs = tf.concat([tf.zeros_like(out.cs[:-1]), d_c[None]], axis=0)
        grads = tf.raw_ops.BlockLSTMGradV2(
            i=out.i, cs=out.cs, f=out.f, o=out.o, ci=out.ci, co=out.co, h=out.h,
            cs_grad=d_cs, h_grad=d_outputs, **block)
        return grads.x_grad, grads.h_prev_grad, grads.cs_prev_grad, grads.w_grad, grads.b_grad

    return (out.h, out.cs[-1]), gradient


def fused_lstm(x, h, c, kernel, recurrent_kernel, bias, projection_dtype=None):
    """`unrolled_lstm`'s arguments and results, by TensorFlow's fused CPU kernels (float32
    or float16 only: a bfloat16 layer runs them in float32; the kernels project the
    inputs themselves, so ``projection_dtype`` is not used)."""
    dtype = x.dtype
    cast = (lambda v: tf.cast(v, tf.float32)) if dtype == tf.bfloat16 else tf.identity
    weights = tf.concat([cast(kernel), cast(recurrent_kernel)], axis=0)  # (in + units, 4u)
    outputs, c = _block_lstm(tf.transpose(cast(x), [1, 0, 2]), cast(h), cast(c), weights,
                             cast(bias))  # (time, batch, units)
    outputs = tf.cast(tf.transpose(outputs, [1, 0, 2]), dtype)  # (batch, time, units)
    return outputs, outputs[:, -1], tf.cast(c, dtype)


RECURRENCES.register("loop")(None)
RECURRENCES.register("unrolled")(unrolled_lstm)
RECURRENCES.register("fused")(fused_lstm)


def applies(layer, sequences, mask):
    """Whether a trained LSTM ``layer`` can run another path than Keras' loop here."""
    cell = layer.cell
    steps = sequences.shape[1]
    return (mask is None and not layer.go_backwards and cell.use_bias
            and not tf.config.list_logical_devices("GPU")  # Keras runs cuDNN there
            and not (cell.dropout or cell.recurrent_dropout)
            and cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid
            and steps is not None and 0 < steps
            and (layer.training_recurrence != "unrolled" or steps <= MAX_UNROLLED_STEPS))


def set_training_recurrence(model, name):
    """Makes every LSTM layer of ``model`` train with recurrence ``name`` (a registered
    name). Not part of any layer's config: a saved or exported model runs Keras' loop.

    Returns:
        the number of layers set.
    """
    from rnn_pipeline.models.cells import LSTM

    RECURRENCES.get(name)
    layers = [layer for layer in model._flatten_layers() if isinstance(layer, LSTM)]
    for layer in layers:
        layer.training_recurrence = name
    return len(layers)
