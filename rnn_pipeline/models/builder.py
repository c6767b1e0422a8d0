"""The one place that turns a pipeline's config into a model, for every task.

Models name their own constructor arguments in errors ("Received: units=0"); here, at the
config boundary, the argument becomes the key of the pipeline file ("model.units").
"""

import dataclasses

from rnn_pipeline.errors import config_keys
from rnn_pipeline.models.backbone import RNNBackbone
from rnn_pipeline.models.causal_lm import CausalLM


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


def build_causal_lm(model_config, vocabulary_size, batch_size=None, seed=0, preprocessor=None,
                    stateful=True):
    """A `CausalLM`; stateful for truncated BPTT over ``batch_size`` parallel streams.

    Args:
        model_config: a `ModelConfig`.
        vocabulary_size: number of token ids.
        batch_size: parallel streams (the stateful batch size).
        seed: initialisation seed.
        preprocessor: optional `TextPreprocessor` kept with the model for generation.
        stateful: carry the state from one window to the next (False: any batch size).
    """
    backbone = build_backbone(model_config, vocabulary_size, batch_size=batch_size,
                              stateful=stateful, seed=seed)
    with config_keys(_keys(model=model_config)):
        return CausalLM(backbone, tie_weights=model_config.tied(),
                        preprocessor=preprocessor, head=model_config.head,
                        cutoffs=model_config.cutoffs, div_value=model_config.div_value,
                        name="causal_lm")


def build_forecaster(config, num_inputs, num_targets, mean, std, vocabularies=()):
    """A `Forecaster` from ``[series]`` and ``[model]`` (the series config resolved).

    Args:
        config: a `PipelineConfig` whose ``series`` has the dataset defaults applied.
        num_inputs: input columns (targets first).
        num_targets: forecast columns.
        mean, std: per-input-column statistics of the training rows.
        vocabularies: the training values of each categorical covariate.
    """
    from rnn_pipeline.models.forecaster import Forecaster

    s, m = config.series, config.model
    with config_keys(_keys(model=m, series=s)):
        return Forecaster(s.lookback, s.horizon, num_inputs, num_targets, mean, std,
                          head=m.head, cell=m.cell, units=m.units, num_layers=m.num_layers,
                          bidirectional=m.bidirectional, dropout=m.dropout,
                          instance_norm=s.instance_norm, segment_length=m.segment_length,
                          highway=m.highway, distribution=m.distribution,
                          quantiles=m.quantiles, categorical_vocabularies=vocabularies,
                          calendar=s.calendar, seed=config.train.seed)


def build_translator(config, source_size, target_size, pad_id, source_preprocessor=None,
                     target_preprocessor=None):
    """A `Seq2SeqTranslator` from ``[model]``.

    Args:
        config: a `PipelineConfig`.
        source_size, target_size: both sides' vocabulary sizes.
        pad_id: padding id of both sides.
        source_preprocessor, target_preprocessor: kept with the model for `translate`.
    """
    from rnn_pipeline.models.seq2seq import Seq2SeqTranslator

    m = config.model
    with config_keys(_keys(model=m)):
        return Seq2SeqTranslator(
            source_size, target_size, pad_id=pad_id, cell=m.cell, embedding_dim=m.embedding_dim,
            units=m.units, num_layers=m.num_layers, bidirectional=m.bidirectional,
            merge=m.merge, attention=m.attention, dropout=m.dropout, seed=config.train.seed,
            source_preprocessor=source_preprocessor, target_preprocessor=target_preprocessor,
            name="translator")
