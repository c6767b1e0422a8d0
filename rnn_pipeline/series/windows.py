"""Sliding windows in tf.data: (history of ``lookback`` rows, the next ``horizon`` rows of
the target columns)."""

import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import pipeline_error


def window_count(num_rows, lookback, horizon, stride=1):
    return max(0, (num_rows - lookback - horizon) // stride + 1)


def make_windows(values, num_targets, lookback, horizon, stride=1, batch_size=32, shuffle=False,
                 seed=0):
    """Args:
        values: float32 (rows, columns), targets first.
        num_targets: how many leading columns are targets.
        lookback: history rows per window.
        horizon: future rows per window.
        stride: rows between consecutive window starts.
        batch_size: windows per batch.
        shuffle: shuffle the windows (training).
        seed: shuffle seed.

    Returns:
        tf.data of (history (batch, lookback, columns), future (batch, horizon, num_targets)).
    """
    if stride < 1:
        raise pipeline_error("series.stride", "must be at least 1", stride)
    count = window_count(len(values), lookback, horizon, stride)
    data = tf.constant(values, tf.float32)
    starts = tf.data.Dataset.range(0, count * stride, stride)
    if shuffle:
        starts = starts.shuffle(count, seed=seed, reshuffle_each_iteration=True)

    def window(start):
        history = data[start:start + lookback]  # (lookback, columns)
        future = data[start + lookback:start + lookback + horizon, :num_targets]
        return history, future  # (horizon, num_targets)

    return starts.map(window, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size) \
        .prefetch(tf.data.AUTOTUNE)


def window_arrays(values, num_targets, lookback, horizon, stride=1):
    """NumPy windows: (history (n, lookback, columns), future (n, horizon, targets))."""
    count = window_count(len(values), lookback, horizon, stride)
    starts = np.arange(count) * stride
    history = np.stack([values[s:s + lookback] for s in starts])
    future = np.stack([values[s + lookback:s + lookback + horizon, :num_targets]
                       for s in starts])
    return history, future
