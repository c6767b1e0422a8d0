"""Recurrent layers by name (one registry): simple_rnn, lstm, gru."""

import contextlib

import keras
import tensorflow as tf
from keras.src import backend as keras_backend  # the backend's rnn loop (no public API)
from keras.src.backend.common import global_state  # Keras' object-sharing maps (no public API)

from rnn_pipeline import choices
from rnn_pipeline.choices import CELLS, RECURRENCES, RECURRENT_INITIALIZERS
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.models.recurrence import applies

ACTIVATIONS = choices.ACTIVATIONS.declared


def check_activation(name, argument="activation"):
    if name not in ACTIVATIONS:
        raise pipeline_error(argument, f"must be one of: {', '.join(map(repr, ACTIVATIONS))}",
                             name)
    return name


RECURRENT_INITIALIZERS.register("orthogonal")(keras.initializers.Orthogonal)  # Keras' default
RECURRENT_INITIALIZERS.register("glorot_uniform")(keras.initializers.GlorotUniform)
# IRNN (Le et al. 2015): W_h = I, so with relu and a zero input h_t = h_{t-1} exactly.
RECURRENT_INITIALIZERS.register("identity")(keras.initializers.Identity)


def _initializers(init_scale, seed, recurrent_initializer=None):
    """Uniform [-s, s] initialisation for all weights and biases (Zaremba et al.),
    or the Keras defaults when ``init_scale`` is None; ``recurrent_initializer`` (a
    registered name) replaces the default of W_h and cannot be combined with
    ``init_scale``."""
    if recurrent_initializer is not None:
        factory = RECURRENT_INITIALIZERS.get(recurrent_initializer, "recurrent_initializer")
        if init_scale is not None:
            raise pipeline_error("recurrent_initializer",
                                 "cannot be combined with init_scale, which sets every "
                                 "weight to uniform [-init_scale, init_scale]",
                                 recurrent_initializer)
        seeded = {} if recurrent_initializer == "identity" else {"seed": seed + 1}
        return {"recurrent_initializer": factory(**seeded)}
    if init_scale is None:
        return {}
    return {
        name: keras.initializers.RandomUniform(-init_scale, init_scale, seed=seed + i)
        for i, name in enumerate(("kernel_initializer", "recurrent_initializer",
                                  "bias_initializer"))
    }


@CELLS.register("simple_rnn")
def simple_rnn(units, activation="tanh", init_scale=None, seed=0,
               recurrent_initializer=None, **kwargs):
    """Elman RNN: h_t = activation(W x_t + U h_{t-1} + b)."""
    return keras.layers.SimpleRNN(units, activation=check_activation(activation),
                                  **_initializers(init_scale, seed, recurrent_initializer),
                                  **kwargs)


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class LSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` whose input projection ``x_t W + b`` runs for every time step
    as one GEMM before the recurrence, as cuDNN and PyTorch's CPU LSTM do; the loop then
    multiplies by the recurrent kernel only. Same weights and outputs (to float32
    round-off). With cell dropout, or where a GPU is visible (cuDNN), it is Keras' LSTM.

    The class keeps Keras' name: `.keras` files store a layer's weights under its class
    name, so runs saved with ``keras.layers.LSTM`` load into this one and back.
    """

    # Set for training only (`rnn_pipeline.models.recurrence`, `training.precision`).
    training_recurrence = "loop"
    training_projection_dtype = None  # e.g. "bfloat16": the input projection's products

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if training and self.training_recurrence != "loop" and applies(self, sequences, mask):
            weights = [tf.identity(keras.ops.convert_to_tensor(w))  # read: not a variable
                       for w in (cell.kernel, cell.recurrent_kernel, cell.bias)]
            outputs, h, c = RECURRENCES.get(self.training_recurrence)(
                sequences, *initial_state, *weights,
                projection_dtype=self.training_projection_dtype)
            return h, outputs, [h, c]
        if (self.dropout or self.recurrent_dropout or isinstance(mask, (list, tuple))
                or tf.config.list_logical_devices("GPU")):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        projected = keras.ops.matmul(sequences, cell.kernel)  # (batch, time, 4 * units)
        if cell.use_bias:
            projected = projected + cell.bias

        def step(z_x, states):
            h_tm1, c_tm1 = states  # (batch, units) each
            z = keras.ops.add(z_x, keras.ops.matmul(h_tm1, cell.recurrent_kernel))
            c, o = cell._compute_carry_and_output_fused(keras.ops.split(z, 4, axis=1), c_tm1)
            h = o * cell.activation(c)
            return h, [h, c]

        return keras_backend.rnn(step, projected, list(initial_state),
                                 go_backwards=self.go_backwards, mask=mask, unroll=self.unroll,
                                 input_length=sequences.shape[1],
                                 zero_output_for_mask=self.zero_output_for_mask,
                                 return_all_outputs=self.return_sequences)


@CELLS.register("lstm")
def lstm(units, activation="tanh", init_scale=None, seed=0,
         recurrent_initializer=None, **kwargs):
    """Long short-term memory (Hochreiter & Schmidhuber 1997); the input projection of
    all time steps is one GEMM (`LSTM`)."""
    return LSTM(units, activation=check_activation(activation),
                unit_forget_bias=init_scale is None,
                **_initializers(init_scale, seed, recurrent_initializer), **kwargs)


@CELLS.register("gru")
def gru(units, activation="tanh", init_scale=None, seed=0,
        recurrent_initializer=None, **kwargs):
    """Gated recurrent unit (Cho et al. 2014)."""
    return keras.layers.GRU(units, activation=check_activation(activation),
                            **_initializers(init_scale, seed, recurrent_initializer), **kwargs)


def make_rnn(cell, units, **kwargs):
    """Builds the recurrent layer registered as ``cell``."""
    return CELLS.get(cell, "cell")(units, **kwargs)


_CELL_CLASSES = {"simple_rnn": keras.layers.SimpleRNNCell, "lstm": keras.layers.LSTMCell,
                 "gru": keras.layers.GRUCell}


def make_cell(cell, units, seed=0, name=None):
    """The single-step cell of ``cell`` (for decoders that loop themselves)."""
    CELLS.check(cell, "cell")
    return _CELL_CLASSES[cell](units, seed=seed, name=name)


def recurrent_layer(cell, units, index, bidirectional=False, first_seed=0,
                    name="{cell}_{i}", bidirectional_name="bi_{cell}_{i}", **options):
    """Layer ``index`` of a recurrent stack; every task's stack is made of these.

    Args:
        cell: a registered cell name.
        units: units per direction.
        index: position in the stack; the layer is seeded ``first_seed + 10 * index``.
        bidirectional: wrap it in `keras.layers.Bidirectional` (outputs concatenated).
        first_seed: seed of layer 0.
        name, bidirectional_name: layer names, formatted with ``cell`` and ``i``.
        **options: activation, init_scale, recurrent_initializer, return_sequences,
            return_state, stateful, dtype (see the cell factories).
    """
    rnn = make_rnn(cell, units, seed=first_seed + 10 * index,
                   name=name.format(cell=cell, i=index), **options)
    if bidirectional:
        with _object_sharing_suspended():
            rnn = keras.layers.Bidirectional(rnn, merge_mode="concat",
                                             name=bidirectional_name.format(cell=cell, i=index))
    return rnn


_SHARING_MAPS = ("shared_objects/id_to_obj_map", "shared_objects/id_to_config_map")


@contextlib.contextmanager
def _object_sharing_suspended():
    """Keeps `keras.layers.Bidirectional`'s copy of its layer out of Keras' object
    sharing while a `.keras` file loads. The wrapper serializes the layer it is given,
    which is then freed; under `keras.saving.load_model` the maps are keyed by `id()`,
    so the next wrapper's fresh layer could reuse the address and be handed the previous
    wrapper's backward layer ("Forward layer and backward layer should have different
    go_backwards value"), or silently share its forward layer."""
    saved = [global_state.get_global_attribute(key) for key in _SHARING_MAPS]
    for key in _SHARING_MAPS:
        global_state.set_global_attribute(key, None)
    try:
        yield
    finally:
        for key, value in zip(_SHARING_MAPS, saved):
            global_state.set_global_attribute(key, value)


def recurrent_stack(cell, units, num_layers, bidirectional=False, first_seed=0,
                    last_return_sequences=True, **options):
    """``num_layers`` stacked `recurrent_layer`s; all but the last return sequences.

    Args:
        last_return_sequences: whether the last layer returns every step (else its last).
        Others: as `recurrent_layer`.
    """
    if num_layers < 1:
        raise pipeline_error("num_layers", "must be at least 1", num_layers)
    if units < 1:
        raise pipeline_error("units", "must be at least 1", units)
    return [recurrent_layer(cell, units, i, bidirectional, first_seed,
                            return_sequences=i < num_layers - 1 or last_return_sequences,
                            **options)
            for i in range(num_layers)]
