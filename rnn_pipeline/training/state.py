"""Hidden state of stateful recurrent layers (truncated BPTT)."""

import keras

from rnn_pipeline.models.stateful import recurrent_layers

__all__ = ["ResetStates", "recurrent_layers", "reset_states"]


def reset_states(model):
    """Zeroes the carried hidden state of every stateful recurrent layer."""
    for layer in recurrent_layers(model):
        layer.reset_states()


class ResetStates(keras.callbacks.Callback):
    """Resets the carried state at the start of every epoch and every evaluation."""

    def on_epoch_begin(self, epoch, logs=None):
        reset_states(self.model)

    def on_test_begin(self, logs=None):
        reset_states(self.model)

    def on_test_end(self, logs=None):
        reset_states(self.model)
