"""The stateful recurrent layers of a model (truncated BPTT carries their state): what
training, distribution and diagnostics reset, split per replica or read."""

import keras


def recurrent_layers(model):
    """All stateful recurrent layers inside ``model``, nested models included: any layer
    with ``stateful=True`` and a ``reset_states()`` method."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if not isinstance(layer, keras.Model) and getattr(layer, "stateful", False)
            and hasattr(layer, "reset_states")]
