"""Fitting the text side of a pipeline on the training split: tokenizer, vocabulary,
preprocessor, and the token streams of every split."""

import numpy as np
import tensorflow as tf

from rnn_pipeline.data.lm_dataset import token_stream, token_strings
from rnn_pipeline.data.preprocessor import TextPreprocessor, normalize
from rnn_pipeline.data.vocabulary import SPECIALS, Vocabulary, count_tokens
from rnn_pipeline.tokenizers import make_tokenizer


def fit_preprocessor(train_lines, text_config, seed=0):
    """Trains the tokenizer (if it learns) and builds the vocabulary on the training split.

    Args:
        train_lines: raw training lines.
        text_config: a `TextConfig`.
        seed: sentencepiece seed.

    Returns:
        (`TextPreprocessor`, `Vocabulary`).
    """
    tokenizer = make_tokenizer(text_config.tokenizer)
    normalize(tf.constant([""]), text_config.normalization, text_config.lowercase)  # validate
    if tokenizer.trainable:
        normalized = [t.decode("utf-8") for t in normalize(
            tf.constant(train_lines), text_config.normalization, text_config.lowercase).numpy()]
        tokenizer.train(normalized, text_config, seed=seed)
    counting = TextPreprocessor(tokenizer.get_config(), list(SPECIALS),
                                text_config.normalization, text_config.lowercase)
    counts = count_tokens(token_strings(train_lines, counting))
    vocabulary = Vocabulary.build(counts, text_config.max_size, text_config.min_frequency,
                                  extra_tokens=tokenizer.pieces())
    return make_preprocessor(text_config, vocabulary, tokenizer.get_config()), vocabulary


def make_preprocessor(text_config, vocabulary, tokenizer_config):
    """A `TextPreprocessor` from saved pieces."""
    return TextPreprocessor(tokenizer_config, vocabulary.itos, text_config.normalization,
                            text_config.lowercase, name="preprocessor")


def split_streams(corpus, preprocessor, vocabulary, splits=("train", "valid", "test")):
    """Token-id streams (``<eos>`` after every line) of the requested splits."""
    return {name: token_stream(corpus.split(name), preprocessor, vocabulary.eos_id)
            for name in splits}


def unigram_perplexity(train_stream, eval_stream, vocabulary_size):
    """Perplexity of the add-one unigram model fitted on ``train_stream``."""
    counts = np.bincount(train_stream, minlength=vocabulary_size).astype(np.float64)
    log_probs = np.log((counts + 1.0) / (counts.sum() + vocabulary_size))
    return float(np.exp(-log_probs[eval_stream].mean()))
