"""The sections of a word-level language-model pipeline (no TensorFlow): ``[data]``,
``[text]``, ``[model]``, ``[train]``, ``[embeddings]`` and ``[word2vec]``."""

from dataclasses import dataclass, field

from rnn_pipeline.config.recipe import (LanguageModelModelConfig, LanguageModelTextConfig,
                                        LanguageModelTrainConfig)
from rnn_pipeline.config.schema import (DataConfig, EmbeddingsConfig, PipelineConfig,
                                        Word2VecConfig)


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
