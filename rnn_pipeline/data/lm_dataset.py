"""The language-model dataset: one token stream cut into parallel streams and bptt windows."""

import math

import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import pipeline_error

_LINES_PER_BATCH = 512


def lines_dataset(lines):
    """A tf.data pipeline of raw lines, batched for the in-graph preprocessor."""
    return tf.data.Dataset.from_tensor_slices(tf.constant(lines, dtype=tf.string)).batch(
        _LINES_PER_BATCH)


def token_strings(lines, preprocessor):
    """Yields the tokens of each batch of lines as Python strings (for counting)."""
    dataset = lines_dataset(lines).map(preprocessor.tokens, num_parallel_calls=tf.data.AUTOTUNE)
    for tokens in dataset:
        yield [t.decode("utf-8") for t in tokens.flat_values.numpy()]


def token_stream(lines, preprocessor, eos_id):
    """Tokenizes lines in tf.data and returns one int32 stream with ``<eos>`` after every line.

    Args:
        lines: raw text lines.
        preprocessor: a `TextPreprocessor` (string -> ragged ids).
        eos_id: id of ``<eos>``.
    """

    def with_eos(text):
        ids = preprocessor(text)  # (batch, None)
        eos = tf.fill([tf.shape(text)[0], 1], tf.constant(eos_id, tf.int32))
        return tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1).flat_values

    dataset = lines_dataset(lines).map(with_eos, num_parallel_calls=tf.data.AUTOTUNE)
    parts = [ids.numpy() for ids in dataset]
    return np.concatenate(parts).astype(np.int32) if parts else np.zeros([0], np.int32)


def lm_windows(stream, batch_size, bptt, eos_id):
    """Cuts a token stream into ``batch_size`` parallel streams and windows of ``bptt`` steps.

    Every token of ``stream`` is a target exactly once: the first is predicted from
    ``<eos>`` (the end of the previous text), the others from their predecessors. The
    streams are padded at their ends to a whole number of windows, and padded
    positions get sample weight 0, so no token is dropped and none counted twice.

    Args:
        stream: int token ids, shape (num_tokens,).
        batch_size: parallel streams; window k+1 of a row continues window k of that row.
        bptt: window length.
        eos_id: id used as context for the first token.

    Returns:
        (dataset of (inputs, targets, weights), each (batch_size, bptt); number of windows).
    """
    if batch_size < 1:
        raise pipeline_error("train.batch_size", "must be at least 1", batch_size)
    if bptt < 1:
        raise pipeline_error("train.bptt", "must be at least 1", bptt)
    stream = np.asarray(stream, np.int32)
    num_tokens = len(stream)
    inputs = np.concatenate([[eos_id], stream[:-1]]).astype(np.int32)
    row_length = math.ceil(num_tokens / batch_size)
    num_windows = math.ceil(row_length / bptt)
    padded = batch_size * num_windows * bptt

    def layout(values):  # (num_tokens,) -> (num_windows, batch, bptt)
        rows = np.zeros([batch_size * row_length], np.int32 if values.dtype != np.float32
                        else np.float32)
        rows[:num_tokens] = values
        grid = np.zeros([batch_size, num_windows * bptt], rows.dtype)
        grid[:, :row_length] = rows.reshape(batch_size, row_length)
        return grid.reshape(batch_size, num_windows, bptt).transpose(1, 0, 2)

    weights = layout(np.ones([num_tokens], np.float32))
    assert weights.sum() == num_tokens and weights.size == padded
    dataset = tf.data.Dataset.from_tensor_slices((layout(inputs), layout(stream), weights))
    return dataset, num_windows
