"""Recurrent layers by name (one registry): simple_rnn, lstm, gru."""

import keras

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.registry import Registry

CELLS = Registry("model.cell")

ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "gelu", "swish", "elu", "selu",
               "softsign", "hard_sigmoid", "linear")


def check_activation(name, argument="model.activation"):
    if name not in ACTIVATIONS:
        raise pipeline_error(argument, f"must be one of: {', '.join(map(repr, ACTIVATIONS))}",
                             name)
    return name


RECURRENT_INITIALIZERS = Registry("model.recurrent_initializer")
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
        factory = RECURRENT_INITIALIZERS.get(recurrent_initializer)
        if init_scale is not None:
            raise pipeline_error("model.recurrent_initializer",
                                 "cannot be combined with model.init_scale, which sets every "
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


@CELLS.register("lstm")
def lstm(units, activation="tanh", init_scale=None, seed=0,
         recurrent_initializer=None, **kwargs):
    """Long short-term memory (Hochreiter & Schmidhuber 1997)."""
    return keras.layers.LSTM(units, activation=check_activation(activation),
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
    return CELLS.get(cell)(units, **kwargs)
