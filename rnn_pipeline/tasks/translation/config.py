"""The sections of a translation pipeline: ``[pairs]``, ``[source_text]``,
``[target_text]``, ``[model]``, ``[train]`` and ``[decode]`` (no TensorFlow)."""

from dataclasses import dataclass, field
from typing import Optional

from rnn_pipeline import choices
from rnn_pipeline.config.schema import PipelineConfig, RecurrentConfig, TextConfig
from rnn_pipeline.config.training import at_least, one_of, path_key, seed_field
from rnn_pipeline.limits import MAX_BEAMS, MAX_GENERATED_TOKENS


@dataclass
class TranslationModelConfig(RecurrentConfig):
    """The encoder-decoder translator.

    Args:
        embedding_dim: size of the token vectors of both sides.
        attention: "none", "additive" (Bahdanau) or "dot" (Luong).
        merge: bidirectional encoder: "concat" (+ Dense) or "sum" of the forward and
            backward final states.
    """

    embedding_dim: int = 200
    attention: str = one_of(choices.ATTENTIONS, "additive")
    merge: str = one_of(choices.MERGES, "concat")


@dataclass
class PairsConfig:
    """Sentence pairs of a translation pipeline.

    Args:
        dataset: a registry pair file ("tatoeba_jpn_eng", "tatoeba_spa_eng"), or None
            with ``file``.
        file: a tab-separated file, ``source<TAB>target[<TAB>anything]`` per line.
        encoding: text encoding of ``file``.
        reverse: translate the second column into the first.
        target_language: ISO code of the target ("ja" scores BLEU on characters);
            None = the dataset's.
        valid_fraction: share of distinct source sentences for validation.
        test_fraction: share of distinct source sentences for test.
        max_source_words: drop pairs with longer sources (whitespace words); None keeps all.
        max_target_chars: drop pairs with longer targets (characters); None keeps all.
        max_pairs: keep only the first pairs of each split after the seeded shuffle
            (smoke runs and budgeted benchmarks).
        seed: shuffle and split seed.
    """

    dataset: Optional[str] = None
    file: Optional[str] = path_key()
    encoding: str = "utf-8"
    reverse: bool = False
    target_language: Optional[str] = None
    valid_fraction: float = 0.05
    test_fraction: float = 0.05
    max_source_words: Optional[int] = None
    max_target_chars: Optional[int] = None
    max_pairs: Optional[int] = None
    seed: int = seed_field()


@dataclass
class DecodeConfig:
    """Translation decoding.

    Args:
        num_beams: 1 is greedy search; more is beam search.
        length_penalty: beam search ranks log-probability / length ** length_penalty.
        max_tokens: longest translation in target tokens.
    """

    num_beams: int = at_least(1, 4, most=MAX_BEAMS)
    length_penalty: float = 0.6
    max_tokens: int = at_least(1, 40, most=MAX_GENERATED_TOKENS)


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
