"""Sliding windows in tf.data: (history of ``lookback`` rows, the next ``horizon`` rows of
the target columns). With categorical covariates or calendar features the history is a
dict: ``history`` (the numbers), ``categories`` (their strings, same rows) and ``time``
(int64 seconds of the history and the horizon rows, for the calendar). With series ids
(many series in one model) it also has ``series_id``, and the windows start at given rows
of the series laid end to end (`panel_starts`)."""

import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import pipeline_error


def window_count(num_rows, lookback, horizon, stride=1):
    return max(0, (num_rows - lookback - horizon) // stride + 1)


def _inputs(values, categories, seconds, start, lookback, horizon, series_id=None):
    """One window's model input: the history array, or a dict with the extras."""
    history = values[start:start + lookback]  # (lookback, columns)
    if categories is None and seconds is None and series_id is None:
        return history
    inputs = {"history": history}
    if series_id is not None:
        inputs["series_id"] = series_id
    if categories is not None:
        inputs["categories"] = categories[start:start + lookback]  # (lookback, categorical)
    if seconds is not None:
        inputs["time"] = seconds[start:start + lookback + horizon]  # (lookback + horizon,)
    return inputs


def _starts(values, lookback, horizon, stride, starts):
    """The rows where windows start: ``starts`` when given, else every ``stride`` rows."""
    if starts is not None:
        return np.asarray(starts, np.int64)
    return np.arange(window_count(len(values), lookback, horizon, stride), dtype=np.int64) * stride


def make_windows(values, num_targets, lookback, horizon, stride=1, batch_size=32, shuffle=False,
                 seed=0, categories=None, seconds=None, starts=None, series_ids=None,
                 hide_ids=0.0):
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
        starts: the first row of each window (many series laid end to end), or None:
            every ``stride`` rows.
        series_ids: str (windows,): each window's series id (with ``starts``), or None.
        hide_ids: the share of training windows whose id is replaced by "" (so that the
            model learns an embedding for series it has not seen).

    Returns:
        tf.data of (history (batch, lookback, columns) or a dict (see the module),
        future (batch, horizon, num_targets)).
    """
    if stride < 1:
        raise pipeline_error("series.stride", "must be at least 1", stride)
    rows = _starts(values, lookback, horizon, stride, starts)
    data = tf.constant(values, tf.float32)
    text = None if categories is None else tf.constant(categories, tf.string)
    times = None if seconds is None else tf.constant(seconds, tf.int64)
    index = tf.data.Dataset.range(len(rows))
    if shuffle:
        index = index.shuffle(max(1, len(rows)), seed=seed, reshuffle_each_iteration=True)
    first = tf.constant(rows)
    ids = None if series_ids is None else tf.constant(np.asarray(series_ids, str))
    # one random draw per window and epoch, from the seed: hide its id below `hide_ids`
    index = tf.data.Dataset.zip(index, tf.data.Dataset.random(seed=seed))

    def window(i, draw):
        start = first[i]
        future = data[start + lookback:start + lookback + horizon, :num_targets]
        series_id = None if ids is None else ids[i]
        if series_id is not None and hide_ids:
            hide = tf.cast(draw % 10_000, tf.float32) < hide_ids * 10_000
            series_id = tf.where(hide, "", series_id)
        return _inputs(data, text, times, start, lookback, horizon, series_id), future

    return index.map(window, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size) \
        .prefetch(tf.data.AUTOTUNE)


def window_arrays(values, num_targets, lookback, horizon, stride=1, categories=None,
                  seconds=None, starts=None, series_ids=None):
    """NumPy windows: (history (n, lookback, columns) or a dict of such arrays (see the
    module), future (n, horizon, targets)); the arguments as `make_windows`'."""
    starts = _starts(values, lookback, horizon, stride, starts)
    ids = [None] * len(starts) if series_ids is None else np.asarray(series_ids, str)
    windows = [_inputs(values, categories, seconds, s, lookback, horizon, i)
               for s, i in zip(starts, ids)]
    history = (np.stack(windows) if not isinstance(windows[0], dict) else
               {key: np.stack([w[key] for w in windows]) for key in windows[0]})
    future = np.stack([values[s + lookback:s + lookback + horizon, :num_targets]
                       for s in starts])
    return history, future


def numeric_history(inputs):
    """The numbers of a window input (array or dict): (n, lookback, columns)."""
    return inputs["history"] if isinstance(inputs, dict) else inputs


def panel_starts(lengths, ranges, lookback, horizon, stride=1):
    """Window starts of one split over many series laid end to end.

    Args:
        lengths: rows of each series, in order.
        ranges: each series' [start, end) rows of the split (`RowRanges` of one split).
        lookback, horizon, stride: as `make_windows`.

    Returns:
        (starts (windows,) int64 rows of the concatenation, owner (windows,) the index of
        each window's series).
    """
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    starts, owner = [], []
    for k, (offset, (a, b)) in enumerate(zip(offsets, ranges)):
        local = np.arange(window_count(b - a, lookback, horizon, stride)) * stride
        starts.append(offset + a + local)
        owner.append(np.full(len(local), k))
    return np.concatenate(starts), np.concatenate(owner)
