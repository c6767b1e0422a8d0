"""The forward side of the explosion: how large the carried hidden state grows.

Clipping bounds the gradient, not the state. With an unbounded activation (relu, gelu,
swish) and a recurrent matrix whose gain exceeds 1 in some direction, ``h_t`` can grow
geometrically and overflow float32; the loss is then NaN although no gradient was.
"""

import dataclasses

import keras
import numpy as np

from rnn_pipeline.training.state import recurrent_layers, reset_states


@dataclasses.dataclass
class ForwardState:
    """Args:
        layers: names of the recurrent layers.
        peaks: largest finite |state| of each layer over the windows read.
        windows: windows read.
        overflow: index of the first window where a state stopped being finite, or None.
        overflowing: names of the layers whose state stopped being finite there.
    """

    layers: list
    peaks: list
    windows: int
    overflow: int = None
    overflowing: list = dataclasses.field(default_factory=list)

    def line(self, split):
        """One sentence for the reader."""
        if self.overflow is None:
            peaks = ", ".join(f"{peak:.3g} ({name})" for name, peak in zip(self.layers,
                                                                           self.peaks))
            return (f"forward state: reading the {split} split from a zero state ({self.windows} "
                    f"windows), the largest |state| is {peaks}")
        peak = max(p for name, p in zip(self.layers, self.peaks) if name in self.overflowing)
        return (f"forward state: reading the {split} split from a zero state, the state of "
                f"{', '.join(self.overflowing)} overflows float32 in window {self.overflow + 1} "
                f"(largest finite |state| before: {peak:.3g}): the activation lets the state "
                f"feed itself, and clipping bounds gradients, not states")


def _largest(layer):
    return max(float(np.max(np.abs(keras.ops.convert_to_numpy(s)))) for s in layer.states)


def forward_state_peaks(model, windows, max_windows=None):
    """Reads consecutive windows from a zero state, as evaluation does.

    Args:
        model: a stateful model (a `CausalLM`); its carried state is reset before and after.
        windows: tf.data of (inputs, targets[, weights]); window k+1 of a row continues
            window k.
        max_windows: stop after this many windows (None: all).

    Returns:
        a `ForwardState`.
    """
    backbone = getattr(model, "backbone", None)
    layers = list(getattr(backbone, "rnn_layers", None) or recurrent_layers(model))  # bottom up
    names = [layer.name for layer in layers]
    result = ForwardState(names, [0.0] * len(layers), 0)
    reset_states(model)
    for batch in windows:
        if max_windows is not None and result.windows >= max_windows:
            break
        model(batch[0], training=False)  # (batch, bptt, vocabulary), discarded
        sizes = [_largest(layer) for layer in layers]
        result.windows += 1
        bad = [name for name, size in zip(names, sizes) if not np.isfinite(size)]
        if bad:
            result.overflow, result.overflowing = result.windows - 1, bad
            break
        result.peaks = [max(peak, size) for peak, size in zip(result.peaks, sizes)]
    reset_states(model)
    return result
