"""The language-model dataset: one token stream cut into parallel streams and bptt windows
(the streams come from the shared text pipeline, `rnn_pipeline.data.token_streams`)."""

import math

import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import pipeline_error

# The fewest training steps an epoch may have (`check_steps`).
MIN_STEPS = 4


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
        rows = np.zeros([batch_size * row_length], values.dtype)
        rows[:num_tokens] = values
        grid = np.zeros([batch_size, num_windows * bptt], rows.dtype)
        grid[:, :row_length] = rows.reshape(batch_size, row_length)
        return grid.reshape(batch_size, num_windows, bptt).transpose(1, 0, 2)

    weights = layout(np.ones([num_tokens], np.float32))
    assert weights.sum() == num_tokens and weights.size == padded
    dataset = tf.data.Dataset.from_tensor_slices((layout(inputs), layout(stream), weights))
    return dataset, num_windows


def windows_per_row(num_tokens, batch_size, bptt):
    """Windows (training steps) of a stream of ``num_tokens`` cut as `lm_windows` cuts it."""
    return math.ceil(math.ceil(num_tokens / batch_size) / bptt)


def check_steps(num_tokens, batch_size, bptt, replicas=1):
    """Refuses a batch (or, when even one stream is too short, a ``bptt``) that leaves the
    training split fewer than `MIN_STEPS` steps per epoch, naming the largest that works.

    Args:
        num_tokens: tokens of the training stream.
        batch_size: ``train.batch_size``.
        bptt: ``train.bptt``.
        replicas: the batch must divide by them; so must the largest one named.
    """
    if windows_per_row(num_tokens, batch_size, bptt) >= MIN_STEPS:
        return
    # ceil(ceil(n / b) / bptt) >= MIN_STEPS exactly when b < n / ((MIN_STEPS - 1) * bptt)
    largest = (math.ceil(num_tokens / ((MIN_STEPS - 1) * bptt)) - 1) // replicas * replicas
    if largest >= 1:
        raise pipeline_error(
            "train.batch_size", f"must leave at least {MIN_STEPS} steps per epoch, but the "
            f"{num_tokens:,} training tokens at train.bptt = {bptt} make "
            f"{windows_per_row(num_tokens, batch_size, bptt)}; the largest batch that works "
            f"is {largest}", batch_size)
    longest = math.ceil(math.ceil(num_tokens / replicas) / (MIN_STEPS - 1)) - 1
    works = f"the longest that works is {longest}" if longest >= 1 else "give it more text"
    raise pipeline_error(
        "train.bptt", f"must leave at least {MIN_STEPS} steps per epoch even at batch "
        f"{replicas}, but the training split has only {num_tokens:,} tokens; {works}", bptt)
