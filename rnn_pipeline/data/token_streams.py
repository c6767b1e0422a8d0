"""Token streams of raw lines, shared by every text task: the lines of several splits
tokenized in one tf.data pass (`tokenize_splits`), then looked up with ``<eos>`` after
every line (`ids_with_eos`)."""

import numpy as np
import tensorflow as tf

_LINES_PER_BATCH = 512


def lines_dataset(lines):
    """A tf.data pipeline of raw lines, batched for the in-graph preprocessor."""
    return tf.data.Dataset.from_tensor_slices(tf.constant(lines, dtype=tf.string)).batch(
        _LINES_PER_BATCH)


def tokenize_splits(lines_by_split, preprocessor):
    """Tokenizes the lines of several splits in one tf.data pass (in the graph).

    Args:
        lines_by_split: mapping split name -> raw text lines.
        preprocessor: a `TextPreprocessor`; only its normalization and tokenizer are used.

    Returns:
        mapping split name -> (flat tokens as a NumPy array of UTF-8 bytes,
        tokens per line).
    """
    tokens, _ = preprocessor.graph_functions()

    def flat_tokens(text):
        ragged = tokens(text)  # (batch, None) string
        return ragged.flat_values, ragged.row_lengths()

    names = list(lines_by_split)
    all_lines = [line for name in names for line in lines_by_split[name]]
    dataset = lines_dataset(all_lines).map(flat_tokens, num_parallel_calls=tf.data.AUTOTUNE)
    flat, lengths = [np.zeros([0], object)], [np.zeros([0], np.int64)]
    for values, row_lengths in dataset.as_numpy_iterator():
        flat.append(values)
        lengths.append(row_lengths)
    flat, lengths = np.concatenate(flat), np.concatenate(lengths)
    line_ends = np.concatenate([[0], np.cumsum(lengths)])
    result, first = {}, 0
    for name in names:
        last = first + len(lines_by_split[name])
        result[name] = (flat[line_ends[first]:line_ends[last]], lengths[first:last])
        first = last
    return result


def ids_with_eos(tokens, line_lengths, preprocessor, eos_id):
    """Looks tokens up with the preprocessor's vocabulary and puts ``<eos>`` after every line.

    Args:
        tokens: flat tokens (UTF-8 bytes) from `tokenize_splits`.
        line_lengths: tokens per line.
        preprocessor: the `TextPreprocessor` whose vocabulary maps tokens to ids.
        eos_id: id of ``<eos>``.

    Returns:
        int32 stream of shape (num_tokens + num_lines,).
    """
    ids = preprocessor.lookup(tf.constant(tokens, tf.string)).numpy() if len(tokens) \
        else np.zeros([0], np.int64)
    return np.insert(ids, np.cumsum(line_lengths), eos_id).astype(np.int32)
