"""Turning a pipeline's config into a model: the shared backbone here, each task's own
model in its folder (``build_causal_lm``, ``build_forecaster``, ... in
``rnn_pipeline/tasks/<task>/model.py``), through `_keys`.

Models name their own constructor arguments in errors ("Received: units=0"); here, at the
config boundary, the argument becomes the key of the pipeline file ("model.units").
"""

import dataclasses

from rnn_pipeline.errors import config_keys
from rnn_pipeline.models.backbone import RNNBackbone


def _keys(**sections):
    """{argument: "section.argument"} for every field of the given config sections."""
    return {f.name: f"{section}.{f.name}" for section, values in sections.items()
            for f in dataclasses.fields(values)}


def build_backbone(model_config, vocabulary_size, batch_size=None, stateful=False, seed=0):
    """An `RNNBackbone` from ``[model]`` settings.

    Args:
        model_config: a `ModelConfig`.
        vocabulary_size: number of token ids.
        batch_size: fixed batch size (needed when ``stateful``).
        stateful: carry hidden state across batches.
        seed: initialisation seed.
    """
    with config_keys(_keys(model=model_config)):
        return RNNBackbone(
            vocabulary_size=vocabulary_size, cell=model_config.cell,
            activation=model_config.activation, embedding_dim=model_config.embedding_dim,
            units=model_config.units, num_layers=model_config.num_layers,
            dropout=model_config.dropout, embedding_dropout=model_config.embedding_dropout,
            bidirectional=model_config.bidirectional, init_scale=model_config.init_scale,
            recurrent_initializer=model_config.recurrent_initializer,
            batch_size=batch_size, stateful=stateful, seed=seed, name="backbone")
