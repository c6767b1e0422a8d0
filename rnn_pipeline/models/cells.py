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


def _initializers(init_scale, seed):
    """Uniform [-s, s] initialisation for all weights and biases (Zaremba et al.),
    or the Keras defaults when ``init_scale`` is None."""
    if init_scale is None:
        return {}
    return {
        name: keras.initializers.RandomUniform(-init_scale, init_scale, seed=seed + i)
        for i, name in enumerate(("kernel_initializer", "recurrent_initializer",
                                  "bias_initializer"))
    }


@CELLS.register("simple_rnn")
def simple_rnn(units, activation="tanh", init_scale=None, seed=0, **kwargs):
    """Elman RNN: h_t = activation(W x_t + U h_{t-1} + b)."""
    return keras.layers.SimpleRNN(units, activation=check_activation(activation),
                                  **_initializers(init_scale, seed), **kwargs)


@CELLS.register("lstm")
def lstm(units, activation="tanh", init_scale=None, seed=0, **kwargs):
    """Long short-term memory (Hochreiter & Schmidhuber 1997)."""
    return keras.layers.LSTM(units, activation=check_activation(activation),
                             unit_forget_bias=init_scale is None,
                             **_initializers(init_scale, seed), **kwargs)


@CELLS.register("gru")
def gru(units, activation="tanh", init_scale=None, seed=0, **kwargs):
    """Gated recurrent unit (Cho et al. 2014)."""
    return keras.layers.GRU(units, activation=check_activation(activation),
                            **_initializers(init_scale, seed), **kwargs)


def make_rnn(cell, units, **kwargs):
    """Builds the recurrent layer registered as ``cell``."""
    return CELLS.get(cell)(units, **kwargs)
