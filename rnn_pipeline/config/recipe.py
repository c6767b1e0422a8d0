"""The language model's recipe: the defaults of the ``[text]``, ``[model]`` and ``[train]``
sections of a ``causal_lm`` pipeline, chosen to train well on text the pipeline has never
seen (BENCHMARKS.md, issue 35: three corpora fitted with only ``[data]`` set).

The sections keep the keys of `TextConfig`, `ModelConfig` and `TrainConfig`, whose own
defaults stay plain (Keras-like) for code that builds models from them directly, and for
the other tasks' sections.

* Text: words and punctuation apart (``unicode_script``), lower-cased, NFKC.
* Vocabulary, one rule: the 4,998 most frequent training tokens seen at least twice,
  plus ``<unk>`` and ``<eos>`` (``max_size = 5000``, ``min_frequency = 2``). The cap
  bounds the softmax's cost, which is most of a step: 2 epochs of 2M tokens fit in
  10 minutes on 2 cores. Raise ``text.max_size`` for more words ("none": no cap).
* Model: 1 x 200 LSTM, dropout 0.4 (0.1 on the embedding), the output projection tied
  to the embedding matrix where the head is the full softmax (``tie_weights`` unset; an
  adaptive head is untied, as only the full softmax can share the matrix).
* Training: Adam at 0.01 over 32 streams of 35-step windows, one norm over all gradients
  clipped to 1, the rate halved when the validation perplexity stops improving, 8 epochs.
"""

from dataclasses import dataclass
from typing import Optional

from rnn_pipeline import choices
from rnn_pipeline.config.schema import ModelConfig, TextConfig
from rnn_pipeline.config.training import MAX_EPOCHS, TrainConfig, at_least, one_of


@dataclass
class LanguageModelTextConfig(TextConfig):
    """A language model's ``[text]``: `TextConfig`'s keys with the recipe's defaults."""

    lowercase: bool = True
    tokenizer: str = one_of(choices.TOKENIZERS, "unicode_script")
    max_size: Optional[int] = 5_000
    min_frequency: int = 2


@dataclass
class LanguageModelModelConfig(ModelConfig):
    """A language model's ``[model]``: `ModelConfig`'s keys with the recipe's defaults."""

    num_layers: int = 1
    dropout: float = 0.4
    embedding_dropout: float = 0.1
    tie_weights: Optional[bool] = None  # unset: tied with the full softmax only


@dataclass
class LanguageModelTrainConfig(TrainConfig):
    """A language model's ``[train]``: `TrainConfig`'s keys with the recipe's defaults."""

    epochs: int = at_least(1, 8, most=MAX_EPOCHS)
    batch_size: int = at_least(1, 32)
    learning_rate: float = 0.01
    global_clipnorm: Optional[float] = 1.0
    schedule: str = one_of(choices.SCHEDULES, "plateau")
