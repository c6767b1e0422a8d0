"""Sentence pairs as model inputs: the two sides' vocabularies and tf.data batches.

Both sides share the LM's first ids (``<unk>`` 0, ``<eos>`` 1) and add ``<pad>`` (2)
and ``<bos>`` (3). A source is its tokens + ``<eos>``; the decoder reads ``<bos>`` +
target and predicts target + ``<eos>``; padding has sample weight 0.
"""

import tensorflow as tf

from rnn_pipeline.data.text_pipeline import fit_text, make_preprocessor
from rnn_pipeline.data.vocabulary import SPECIALS, Vocabulary

PAD, BOS = "<pad>", "<bos>"
EOS_ID, PAD_ID, BOS_ID = 1, 2, 3


def fit_side(lines, text_config, seed=0, section=None):
    """Tokenizer and vocabulary of one side, fitted on its training lines.

    Args:
        lines: the side's training lines.
        text_config: its `TextConfig`.
        seed: sentencepiece seed.
        section: its config section ("source_text", "target_text"), to refuse a
            vocabulary that leaves most tokens ``<unk>`` (`text_pipeline.check_coverage`);
            None skips that check.

    Returns:
        (`TextPreprocessor`, `Vocabulary` with ``<pad>``/``<bos>`` at ids 2 and 3).
    """
    preprocessor, vocabulary, _ = fit_text({"train": lines}, text_config, seed=seed,
                                           section=section)
    itos = list(SPECIALS) + [PAD, BOS] + [t for t in vocabulary.itos[2:] if t not in (PAD, BOS)]
    vocabulary = Vocabulary(itos)
    return make_preprocessor(text_config, vocabulary, preprocessor.tokenizer_config), vocabulary


def pad_source(ids):
    """(batch, None) ragged int32 ids -> int32 (batch, S): ids + ``<eos>``, right-padded."""
    ends = tf.fill([ids.nrows(), 1], EOS_ID)
    return tf.concat([ids, ends], axis=1).to_tensor(default_value=PAD_ID)


def source_ids(preprocessor, texts):
    """(batch,) strings -> int32 (batch, S): tokens + ``<eos>``, right-padded."""
    return pad_source(preprocessor(texts))


def target_arrays(preprocessor, texts):
    """(batch,) strings -> (decoder input ``<bos>`` + ids, targets ids + ``<eos>``,
    weights 1/0), each (batch, T), padded."""
    ids = preprocessor(texts)  # (batch, None) ragged
    rows = tf.fill([ids.nrows(), 1], 0)
    decoder_in = tf.concat([rows + BOS_ID, ids], axis=1).to_tensor(default_value=PAD_ID)
    targets = tf.concat([ids, rows + EOS_ID], axis=1)
    weights = tf.ones_like(targets, tf.float32).to_tensor(default_value=0.0)
    return decoder_in, targets.to_tensor(default_value=PAD_ID), weights


def pair_batches(pairs, source_preprocessor, target_preprocessor, batch_size, shuffle_seed=None):
    """tf.data of ``({"source_ids", "target_ids"}, targets, weights)`` batches.

    Args:
        pairs: list of (source, target) strings.
        source_preprocessor, target_preprocessor: fitted `TextPreprocessor`s.
        batch_size: pairs per batch.
        shuffle_seed: reshuffle every epoch with this seed; None keeps the order.
    """
    sources = tf.constant([s for s, _ in pairs], tf.string)
    targets = tf.constant([t for _, t in pairs], tf.string)
    dataset = tf.data.Dataset.from_tensor_slices((sources, targets))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(pairs), seed=shuffle_seed, reshuffle_each_iteration=True)

    def to_arrays(source, target):
        decoder_in, target_out, weights = target_arrays(target_preprocessor, target)
        inputs = {"source_ids": source_ids(source_preprocessor, source),
                  "target_ids": decoder_in}
        return inputs, target_out, weights

    return dataset.batch(batch_size).map(to_arrays).prefetch(tf.data.AUTOTUNE)

