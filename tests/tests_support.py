"""Helpers shared by tests: independent reference computations."""

import numpy as np

from rnn_pipeline.config import ModelConfig
from rnn_pipeline.data.preprocessor import TextPreprocessor
from rnn_pipeline.models import CausalLM, RNNBackbone, build_causal_lm

TINY_VOCAB = ["<unk>", "<eos>", "the", "cat", "sat", "on", "mat", "a", "dog", "ran"]


def tiny_lm(cell="lstm", seed=1):
    """A 2 x 4 causal LM over `TINY_VOCAB` with random (seeded) weights, large enough
    that every choice of sampler makes a difference."""
    preprocessor = TextPreprocessor({"name": "whitespace"}, TINY_VOCAB)
    model = build_causal_lm(ModelConfig(cell=cell, embedding_dim=4, units=4, num_layers=2),
                            len(TINY_VOCAB), batch_size=2, preprocessor=preprocessor)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 1.5, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def full_forward_logits(model, ids):
    """Logits after the last of ``ids``, by running the whole sequence through a stateless
    copy of ``model`` (Keras layers over the full sequence, not the stepper)."""
    if not hasattr(model, "_stateless_clone"):
        config = {**model.backbone.get_config(), "stateful": False, "batch_size": None}
        clone = CausalLM(RNNBackbone.from_config(config), tie_weights=model.tie_weights)
        clone.set_weights(model.get_weights())
        model._stateless_clone = clone
    return model._stateless_clone(np.array([ids], np.int32), training=False).numpy()[0, -1]
