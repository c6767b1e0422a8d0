"""Fitting the text side of a pipeline on the training split: tokenizer, vocabulary,
preprocessor, and the token-id streams of every split."""

import numpy as np
import tensorflow as tf

from rnn_pipeline.data.preprocessor import TextPreprocessor, normalize
from rnn_pipeline.data.token_streams import ids_with_eos, tokenize_splits
from rnn_pipeline.data.vocabulary import SPECIALS, Vocabulary
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tokenizers import make_tokenizer

# A vocabulary may leave at most this share of the training tokens <unk>.
MAX_UNKNOWN_SHARE = 0.5


def make_preprocessor(text_config, vocabulary, tokenizer_config):
    """A `TextPreprocessor` from saved pieces."""
    return TextPreprocessor(tokenizer_config, vocabulary.itos, text_config.normalization,
                            text_config.lowercase, name="preprocessor")


def fitted_text(preprocessor_config):
    """The `TextPreprocessor` and `Vocabulary` of a saved preprocessor config (a resumed
    run's tokenizer and vocabulary, not fitted again)."""
    preprocessor = TextPreprocessor.from_config(preprocessor_config)
    return preprocessor, Vocabulary(preprocessor.vocabulary)


def fit_text(lines_by_split, text_config, seed=0, section="text"):
    """Trains the tokenizer (if it learns) and builds the vocabulary on ``lines_by_split
    ["train"]``, then turns every split into a token-id stream.

    Args:
        lines_by_split: mapping split name -> raw lines; must contain "train".
        text_config: a `TextConfig`.
        seed: sentencepiece seed.
        section: the config section of ``text_config``, for the error of a vocabulary
            that leaves most training tokens ``<unk>`` (`check_coverage`); None skips
            that check.

    Returns:
        (`TextPreprocessor`, `Vocabulary`, mapping split name -> int32 stream).
    """
    tokenizer = make_tokenizer(text_config.tokenizer)
    normalize(tf.constant([""]), text_config.normalization, text_config.lowercase)  # validate
    if tokenizer.trainable:
        normalized = normalize(tf.constant(lines_by_split["train"]), text_config.normalization,
                               text_config.lowercase).numpy()
        tokenizer.train([t.decode("utf-8") for t in normalized], text_config, seed=seed)
    tokens = tokenize_splits(lines_by_split, make_preprocessor(
        text_config, Vocabulary(list(SPECIALS)), tokenizer.get_config()))
    unique, counts = np.unique(tokens["train"][0].astype(bytes), return_counts=True)
    counts = {token.decode("utf-8"): int(n) for token, n in zip(unique, counts)}
    vocabulary = Vocabulary.build(counts, text_config.max_size, text_config.min_frequency,
                                  extra_tokens=tokenizer.pieces())
    if section is not None:
        check_coverage(counts, vocabulary, text_config, section)
    preprocessor = make_preprocessor(text_config, vocabulary, tokenizer.get_config())
    return preprocessor, vocabulary, to_streams(tokens, preprocessor, vocabulary)


def check_coverage(counts, vocabulary, text_config, section="text"):
    """Refuses a vocabulary that leaves more than `MAX_UNKNOWN_SHARE` of the training
    tokens ``<unk>``, naming ``min_frequency`` when it alone does so, else ``max_size``.

    Args:
        counts: {token: count} of the training split.
        vocabulary: the `Vocabulary` built from them.
        text_config: the `TextConfig` that built it.
        section: its config section, e.g. "text".
    """
    total = sum(counts.values())
    unknown = total - sum(n for token, n in counts.items() if token in vocabulary.stoi
                          and token != vocabulary.itos[vocabulary.unk_id])
    if not total or unknown <= MAX_UNKNOWN_SHARE * total:
        return
    floor = text_config.min_frequency
    floor_alone = sum(n for n in counts.values() if n < floor)
    key, value = (("min_frequency", floor) if floor_alone > MAX_UNKNOWN_SHARE * total
                  else ("max_size", text_config.max_size))
    kept = sum(1 for token in counts if token in vocabulary.stoi)
    raise pipeline_error(
        f"{section}.{key}", f"must keep at least {1 - MAX_UNKNOWN_SHARE:.0%} of the training "
        f"tokens out of <unk>, but the vocabulary keeps {kept:,} of the {len(counts):,} "
        f"distinct training tokens, and {unknown / total:.0%} of the {total:,} training "
        f"tokens become <unk> (the most frequent occurs {max(counts.values()):,} times)",
        value)


def to_streams(tokens, preprocessor, vocabulary):
    """Token-id streams (``<eos>`` after every line) from `tokenize_splits` output."""
    return {name: ids_with_eos(flat, lengths, preprocessor, vocabulary.eos_id)
            for name, (flat, lengths) in tokens.items()}


def split_streams(corpus, preprocessor, vocabulary, splits=("train", "valid", "test")):
    """Token-id streams of the requested splits with a fitted preprocessor."""
    tokens = tokenize_splits({name: corpus.split(name) for name in splits}, preprocessor)
    return to_streams(tokens, preprocessor, vocabulary)


def unigram_log_probs(train_stream, vocabulary_size):
    """(vocabulary_size,) log-probabilities of the add-one unigram model of a stream."""
    counts = np.bincount(train_stream, minlength=vocabulary_size).astype(np.float64)
    return np.log((counts + 1.0) / (counts.sum() + vocabulary_size))


def unigram_perplexity(train_stream, eval_stream, vocabulary_size):
    """Perplexity of the add-one unigram model fitted on ``train_stream``."""
    log_probs = unigram_log_probs(train_stream, vocabulary_size)
    return float(np.exp(-log_probs[eval_stream].mean()))
