"""The quantities of the (W_h)^t argument for an Elman RNN (`simple_rnn`).

||dh_t/dh_{t-1}|| = ||diag(f'(a_t)) W_h|| <= max|f'| * sigma_max(W_h) = gamma. Over k steps
the gradient is at most gamma^k times as large: if gamma < 1 it must vanish
geometrically; if gamma > 1 it may (but need not) explode.
"""

from dataclasses import dataclass

import keras
import numpy as np


def activation_derivative_bound(name):
    """max |f'(x)| of the Keras activation ``name``, measured on a fine grid of x."""
    x = np.linspace(-12.0, 12.0, 240_001)
    y = keras.ops.convert_to_numpy(keras.activations.get(name)(keras.ops.convert_to_tensor(x)))
    return float(np.max(np.abs(np.diff(y) / np.diff(x))))


@dataclass
class RecurrenceBound:
    """Args:
        layer: the recurrent layer's name.
        spectral_norm: sigma_max(W_h), the largest singular value.
        derivative_bound: max |f'| of the activation.
    """

    layer: str
    activation: str
    spectral_norm: float
    derivative_bound: float

    @property
    def gamma(self):
        return self.spectral_norm * self.derivative_bound

    def line(self):
        verdict = ("the gradient must vanish at least as fast as gamma^k" if self.gamma < 1
                   else "no vanishing guarantee: the gradient may grow")
        return (f"{self.layer}: sigma_max(W_h) = {self.spectral_norm:.3f}, max|{self.activation}'|"
                f" = {self.derivative_bound:.3f}, gamma = {self.gamma:.3f} ({verdict})")


def simple_rnn_bounds(backbone):
    """One `RecurrenceBound` per `simple_rnn` layer of an `RNNBackbone` (none for gated cells)."""
    bounds = []
    for layer in backbone.rnn_layers:
        cell = layer.cell
        if not isinstance(cell, keras.layers.SimpleRNNCell):
            continue
        w_h = keras.ops.convert_to_numpy(cell.recurrent_kernel)  # (units, units)
        bounds.append(RecurrenceBound(layer.name, cell.activation.__name__,
                                      float(np.linalg.norm(w_h, 2)),
                                      activation_derivative_bound(cell.activation)))
    return bounds
