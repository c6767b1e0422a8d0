"""Helpers shared by tests: independent reference computations."""

import numpy as np

from rnn_pipeline.models import CausalLM, RNNBackbone


def full_forward_logits(model, ids):
    """Logits after the last of ``ids``, by running the whole sequence through a stateless
    copy of ``model`` (Keras layers over the full sequence, not the stepper)."""
    if not hasattr(model, "_stateless_clone"):
        config = {**model.backbone.get_config(), "stateful": False, "batch_size": None}
        clone = CausalLM(RNNBackbone.from_config(config), tie_weights=model.tie_weights)
        clone.set_weights(model.get_weights())
        model._stateless_clone = clone
    return model._stateless_clone(np.array([ids], np.int32), training=False).numpy()[0, -1]
