"""Hidden state of stateful recurrent layers (truncated BPTT)."""

import keras


def recurrent_layers(model):
    """All stateful recurrent layers inside ``model``, nested models included: any layer
    with ``stateful=True`` and a ``reset_states()`` method."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if not isinstance(layer, keras.Model) and getattr(layer, "stateful", False)
            and hasattr(layer, "reset_states")]


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
