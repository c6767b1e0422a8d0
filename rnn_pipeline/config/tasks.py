"""One pipeline config class per task: the sections a pipeline of that task may have
(each task's declaration, `rnn_pipeline.tasks`, names its class).

A section of another task's pipeline is an error that names the section and the task
(`rnn_pipeline.config.loader`).
"""

from dataclasses import dataclass, field

from rnn_pipeline.config.recipe import (LanguageModelModelConfig, LanguageModelTextConfig,
                                        LanguageModelTrainConfig)
from rnn_pipeline.config.schema import (DataConfig, DecodeConfig, EmbeddingsConfig,
                                        ForecastModelConfig, PairsConfig, PipelineConfig,
                                        SeriesConfig, TextConfig, TranslationModelConfig,
                                        Word2VecConfig)
from rnn_pipeline.tasks import TASK_CONFIGS

__all__ = ["TASK_CONFIGS", "ForecastConfig", "LanguageModelConfig", "TranslationConfig"]


@dataclass
class LanguageModelConfig(PipelineConfig):
    """A word-level language model: ``[data]``, ``[text]``, ``[model]``, ``[train]``,
    ``[embeddings]`` and ``[word2vec]``. Its ``[text]``, ``[model]`` and ``[train]`` take
    the recipe's defaults (`rnn_pipeline.config.recipe`): a file that sets only ``[data]``
    trains well."""

    task: str = "causal_lm"
    data: DataConfig = field(default_factory=DataConfig)
    text: LanguageModelTextConfig = field(default_factory=LanguageModelTextConfig)
    model: LanguageModelModelConfig = field(default_factory=LanguageModelModelConfig)
    train: LanguageModelTrainConfig = field(default_factory=LanguageModelTrainConfig)
    embeddings: EmbeddingsConfig = field(default_factory=EmbeddingsConfig)
    word2vec: Word2VecConfig = field(default_factory=Word2VecConfig)


@dataclass
class ForecastConfig(PipelineConfig):
    """A forecaster: ``[series]``, ``[model]`` and ``[train]``."""

    task: str = "forecast"
    series: SeriesConfig = field(default_factory=SeriesConfig)
    model: ForecastModelConfig = field(default_factory=ForecastModelConfig)


@dataclass
class TranslationConfig(PipelineConfig):
    """A translator: ``[pairs]``, ``[source_text]``, ``[target_text]``, ``[model]``,
    ``[train]`` and ``[decode]``."""

    task: str = "translation"
    pairs: PairsConfig = field(default_factory=PairsConfig)
    source_text: TextConfig = field(default_factory=TextConfig)
    target_text: TextConfig = field(default_factory=TextConfig)
    model: TranslationModelConfig = field(default_factory=TranslationModelConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
