"""Builds models from a pipeline's `ModelConfig`."""

from rnn_pipeline.models.backbone import RNNBackbone
from rnn_pipeline.models.causal_lm import CausalLM


def build_backbone(model_config, vocabulary_size, batch_size=None, stateful=False, seed=0):
    """An `RNNBackbone` from ``[model]`` settings.

    Args:
        model_config: a `ModelConfig`.
        vocabulary_size: number of token ids.
        batch_size: fixed batch size (needed when ``stateful``).
        stateful: carry hidden state across batches.
        seed: initialisation seed.
    """
    return RNNBackbone(
        vocabulary_size=vocabulary_size, cell=model_config.cell,
        activation=model_config.activation, embedding_dim=model_config.embedding_dim,
        units=model_config.units, num_layers=model_config.num_layers,
        dropout=model_config.dropout, embedding_dropout=model_config.embedding_dropout,
        bidirectional=model_config.bidirectional, init_scale=model_config.init_scale,
        recurrent_initializer=model_config.recurrent_initializer,
        batch_size=batch_size, stateful=stateful, seed=seed, name="backbone")


def build_causal_lm(model_config, vocabulary_size, batch_size, seed=0, preprocessor=None):
    """A stateful `CausalLM` for truncated BPTT over ``batch_size`` parallel streams.

    Args:
        model_config: a `ModelConfig`.
        vocabulary_size: number of token ids.
        batch_size: parallel streams (the stateful batch size).
        seed: initialisation seed.
        preprocessor: optional `TextPreprocessor` kept with the model for generation.
    """
    backbone = build_backbone(model_config, vocabulary_size, batch_size=batch_size,
                              stateful=True, seed=seed)
    return CausalLM(backbone, tie_weights=model_config.tie_weights, preprocessor=preprocessor,
                    name="causal_lm")
