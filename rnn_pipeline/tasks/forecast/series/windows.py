"""Sliding windows in tf.data: (history of ``lookback`` rows, the next ``horizon`` rows of
the target columns). With categorical covariates or calendar features the history is a
dict: ``history`` (the numbers), ``categories`` (their strings, same rows) and ``time``
(int64 seconds of the history and the horizon rows, for the calendar)."""

import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import pipeline_error


def window_count(num_rows, lookback, horizon, stride=1):
    return max(0, (num_rows - lookback - horizon) // stride + 1)


def _inputs(values, categories, seconds, start, lookback, horizon):
    """One window's model input: the history array, or a dict with the extras."""
    history = values[start:start + lookback]  # (lookback, columns)
    if categories is None and seconds is None:
        return history
    inputs = {"history": history}
    if categories is not None:
        inputs["categories"] = categories[start:start + lookback]  # (lookback, categorical)
    if seconds is not None:
        inputs["time"] = seconds[start:start + lookback + horizon]  # (lookback + horizon,)
    return inputs


def make_windows(values, num_targets, lookback, horizon, stride=1, batch_size=32, shuffle=False,
                 seed=0, categories=None, seconds=None):
    """Args:
        values: float32 (rows, columns), targets first.
        num_targets: how many leading columns are targets.
        lookback: history rows per window.
        horizon: future rows per window.
        stride: rows between consecutive window starts.
        batch_size: windows per batch.
        shuffle: shuffle the windows (training).
        seed: shuffle seed.
        categories: str (rows, categorical), or None.
        seconds: int64 (rows,) timestamps for calendar features, or None.

    Returns:
        tf.data of (history (batch, lookback, columns) or a dict (see the module),
        future (batch, horizon, num_targets)).
    """
    if stride < 1:
        raise pipeline_error("series.stride", "must be at least 1", stride)
    count = window_count(len(values), lookback, horizon, stride)
    data = tf.constant(values, tf.float32)
    text = None if categories is None else tf.constant(categories, tf.string)
    times = None if seconds is None else tf.constant(seconds, tf.int64)
    starts = tf.data.Dataset.range(0, count * stride, stride)
    if shuffle:
        starts = starts.shuffle(count, seed=seed, reshuffle_each_iteration=True)

    def window(start):
        future = data[start + lookback:start + lookback + horizon, :num_targets]
        return _inputs(data, text, times, start, lookback, horizon), future

    return starts.map(window, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size) \
        .prefetch(tf.data.AUTOTUNE)


def window_arrays(values, num_targets, lookback, horizon, stride=1, categories=None,
                  seconds=None):
    """NumPy windows: (history (n, lookback, columns) or a dict of such arrays (see the
    module), future (n, horizon, targets))."""
    count = window_count(len(values), lookback, horizon, stride)
    starts = np.arange(count) * stride
    windows = [_inputs(values, categories, seconds, s, lookback, horizon) for s in starts]
    history = (np.stack(windows) if not isinstance(windows[0], dict) else
               {key: np.stack([w[key] for w in windows]) for key in windows[0]})
    future = np.stack([values[s + lookback:s + lookback + horizon, :num_targets]
                       for s in starts])
    return history, future


def numeric_history(inputs):
    """The numbers of a window input (array or dict): (n, lookback, columns)."""
    return inputs["history"] if isinstance(inputs, dict) else inputs
