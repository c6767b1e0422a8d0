"""Layers of the forecasting heads: window shift (instance normalisation), decoder cells,
per-step embeddings, and the segment-recurrent head (SegRNN-style)."""

import keras
from keras import ops

from rnn_pipeline import choices
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.models.cells import make_cell

INSTANCE_NORMS = choices.INSTANCE_NORMS.declared


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class WindowShift(keras.layers.Layer):
    """Subtracts each window's last value or mean, per column; returns (shifted, statistic),
    so the head forecasts changes and the statistic is added back afterwards.

    Args:
        mode: "none", "last" or "mean".
    """

    def __init__(self, mode="last", **kwargs):
        super().__init__(**kwargs)
        if mode not in INSTANCE_NORMS:
            raise pipeline_error("instance_norm",
                                 f"must be one of: {', '.join(map(repr, INSTANCE_NORMS))}", mode)
        self.mode = mode

    def call(self, x):  # (batch, lookback, columns)
        if self.mode == "last":
            statistic = x[:, -1:, :]
        elif self.mode == "mean":
            statistic = ops.mean(x, axis=1, keepdims=True)
        else:
            statistic = ops.zeros_like(x[:, -1:, :])
        return x - statistic, statistic  # (batch, lookback, columns), (batch, 1, columns)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class StepEmbedding(keras.layers.Layer):
    """A learned vector per horizon step, broadcast over the batch: (batch, horizon, dim).

    Args:
        horizon: steps.
        dim: vector size.
    """

    def __init__(self, horizon, dim, **kwargs):
        super().__init__(**kwargs)
        self.horizon, self.dim = horizon, dim
        self.table = self.add_weight(shape=(horizon, dim), initializer="glorot_uniform",
                                     name="table")

    def call(self, reference):  # any (batch, ...) tensor
        batch = ops.shape(reference)[0]
        return ops.broadcast_to(self.table[None], (batch, self.horizon, self.dim))

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon, "dim": self.dim}


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class DecoderCell(keras.layers.Layer):
    """One decoder step: a recurrent cell plus a Dense to the targets. With ``feedback``,
    the step's input is the previous prediction (autoregressive); without it, the step
    input given to the RNN (a step embedding) is used (seq2seq decoder).

    Args:
        cell: "simple_rnn", "lstm" or "gru".
        units: cell size.
        num_targets: predicted values per step.
        feedback: feed each prediction's location back as the next input.
        seed: initialisation seed.
        num_params: outputs per target (a distribution's parameters, the location first):
            each step writes ``num_params`` blocks of ``num_targets``.
    """

    def __init__(self, cell, units, num_targets, feedback, seed=0, num_params=1, **kwargs):
        super().__init__(**kwargs)
        self.cell_name, self.units, self.num_targets = cell, units, num_targets
        self.feedback, self.seed, self.num_params = feedback, seed, num_params
        self.cell = make_cell(cell, units, seed=seed, name="cell")
        self.project = keras.layers.Dense(num_targets * num_params, name="project")
        inner = self.cell.state_size
        self.inner_sizes = list(inner) if isinstance(inner, (list, tuple)) else [inner]
        self.state_size = [*self.inner_sizes, num_targets]
        self.output_size = num_targets * num_params

    def build(self, input_shape):
        width = self.num_targets if self.feedback else input_shape[-1]
        self.cell.build((None, width))
        self.project.build((None, self.units))
        self.built = True

    def call(self, step_input, states, training=False):
        inner, previous = list(states[:-1]), states[-1]
        x = previous if self.feedback else step_input
        output, inner = self.cell(x, inner if len(inner) > 1 else inner[0], training=training)
        inner = list(inner) if isinstance(inner, (list, tuple)) else [inner]
        prediction = self.project(output)  # (batch, num_params * num_targets)
        return prediction, [*inner, prediction[:, :self.num_targets]]

    def get_config(self):
        return {**super().get_config(), "cell": self.cell_name, "units": self.units,
                "num_targets": self.num_targets, "feedback": self.feedback, "seed": self.seed,
                "num_params": self.num_params}


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class SegmentRecurrentHead(keras.layers.Layer):
    """SegRNN-style head (Lin et al. 2023), channels independent with shared weights: the
    lookback is cut into segments of ``segment_length`` steps, each embedded and read by a
    GRU as one step; every horizon segment is decoded in parallel from the last state
    and a position + channel embedding.

    Args:
        lookback, horizon: window lengths (both multiples of ``segment_length``).
        num_channels: columns of the window (all are forecast; the task keeps the targets).
        segment_length: steps per segment.
        units: embedding and GRU size (even).
        dropout: dropout on the decoder output.
        seed: initialisation seed.
        num_params: outputs per channel and step (a distribution's parameters).
    """

    def __init__(self, lookback, horizon, num_channels, segment_length, units, dropout=0.0,
                 seed=0, num_params=1, **kwargs):
        super().__init__(**kwargs)
        for key, value in (("lookback", lookback), ("horizon", horizon)):
            if value % segment_length:
                raise pipeline_error(key, f"must be a multiple of segment_length "
                                     f"({segment_length}) in segment mode", value)
        if units % 2:
            raise pipeline_error("units", "must be even in segment mode (half position, "
                                 "half channel embedding)", units)
        self.lookback, self.horizon, self.num_channels = lookback, horizon, num_channels
        self.segment_length, self.units, self.dropout, self.seed = (segment_length, units,
                                                                    dropout, seed)
        self.num_params = num_params
        self.segments_in = lookback // segment_length
        self.segments_out = horizon // segment_length
        self.embed = keras.layers.Dense(units, activation="relu", name="segment_embedding")
        self.encoder = keras.layers.GRU(units, seed=seed, name="encoder")
        self.decoder = keras.layers.GRUCell(units, seed=seed + 1, name="decoder")
        self.position = self.add_weight(shape=(self.segments_out, units // 2),
                                        initializer="glorot_uniform", name="position")
        self.channel = self.add_weight(shape=(num_channels, units // 2),
                                       initializer="glorot_uniform", name="channel")
        self.drop = keras.layers.Dropout(dropout, seed=seed)
        self.output_segment = keras.layers.Dense(segment_length * num_params,
                                                 name="output_segment")

    def call(self, x, training=False):  # (batch, lookback, channels)
        batch, c, m = ops.shape(x)[0], self.num_channels, self.segments_out
        series = ops.reshape(ops.transpose(x, (0, 2, 1)),
                             (-1, self.segments_in, self.segment_length))  # (batch*c, n, w)
        state = self.encoder(self.embed(series), training=training)  # (batch*c, units)
        queries = ops.concatenate([
            ops.broadcast_to(self.position[None], (c, m, self.units // 2)),
            ops.broadcast_to(self.channel[:, None], (c, m, self.units // 2))], axis=-1)
        queries = ops.reshape(ops.broadcast_to(queries[None], (batch, c, m, self.units)),
                              (-1, self.units))  # (batch*c*m, units)
        states = ops.reshape(ops.repeat(state[:, None], m, axis=1), (-1, self.units))
        output, _ = self.decoder(queries, states, training=training)  # (batch*c*m, units)
        segments = self.output_segment(self.drop(output, training=training))  # (.., w * p)
        p, w = self.num_params, self.segment_length
        segments = ops.reshape(segments, (batch, c, m, p, w))
        forecast = ops.reshape(ops.transpose(segments, (0, 3, 1, 2, 4)),
                               (batch, p, c, self.horizon))
        return ops.transpose(forecast, (0, 3, 1, 2))  # (batch, horizon, params, channels)

    def get_config(self):
        return {**super().get_config(), "lookback": self.lookback, "horizon": self.horizon,
                "num_channels": self.num_channels, "segment_length": self.segment_length,
                "units": self.units, "dropout": self.dropout, "seed": self.seed,
                "num_params": self.num_params}


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class LinearHighway(keras.layers.Layer):
    """LSTNet's linear highway (Lai et al. 2018): one linear map from each target channel's
    shifted lookback and its window statistic (`WindowShift`) to its horizon, shared by the
    channels (channel-independent), added to the recurrent head's output so that the network
    learns the residual. With the statistic as an input it spans Zeng et al.'s Linear and
    NLinear alike.

    Args:
        lookback, horizon: window lengths.
        num_targets: the leading input columns it reads and forecasts.
    """

    def __init__(self, lookback, horizon, num_targets, **kwargs):
        super().__init__(**kwargs)
        self.lookback, self.horizon, self.num_targets = lookback, horizon, num_targets
        self.kernel = self.add_weight(shape=(lookback, horizon), initializer="zeros",
                                      name="kernel")
        self.level = self.add_weight(shape=(horizon,), initializer="zeros", name="level")
        self.bias = self.add_weight(shape=(horizon,), initializer="zeros", name="bias")

    def call(self, x, statistic):  # (batch, lookback, columns), (batch, 1, columns)
        targets = x[:, :, :self.num_targets]  # (batch, lookback, targets)
        out = ops.einsum("blc,lh->bhc", targets, self.kernel)
        level = statistic[:, :, :self.num_targets] * self.level[None, :, None]
        return out + level + self.bias[None, :, None]  # (batch, horizon, targets)

    def get_config(self):
        return {**super().get_config(), "lookback": self.lookback, "horizon": self.horizon,
                "num_targets": self.num_targets}


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class CalendarFeatures(keras.layers.Layer):
    """int64 seconds since 1970 (batch, steps) -> the sine and cosine of each calendar
    feature (batch, steps, 2 * len(names)), in the graph (`series.calendar`).

    Args:
        names: calendar features, e.g. ["hour", "day_of_week"].
    """

    def __init__(self, names, **kwargs):
        super().__init__(**kwargs)
        from rnn_pipeline.tasks.forecast.series.calendar import check_calendar

        self.names = check_calendar(names)

    def call(self, seconds):
        from rnn_pipeline.tasks.forecast.series.calendar import calendar_features

        return calendar_features(seconds, self.names)

    def compute_output_shape(self, input_shape):
        return (*input_shape, 2 * len(self.names))

    def get_config(self):
        return {**super().get_config(), "names": self.names}


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class WindowScale(keras.layers.Layer):
    """Divides each window by its own scale, per column: its standard deviation over the
    lookback, at least ``floor`` times its mean absolute value (a flat window keeps a
    finite scale) and at least 1e-6. Series of any level then reach the network on one
    axis. Returns (scaled, scale), so the forecast is multiplied back.

    Args:
        floor: the smallest scale relative to the window's mean absolute value.
    """

    def __init__(self, floor=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.floor = floor

    def call(self, x):  # (batch, lookback, columns)
        spread = ops.std(x, axis=1, keepdims=True)
        level = ops.mean(ops.abs(x), axis=1, keepdims=True)
        scale = ops.maximum(ops.maximum(spread, self.floor * level), 1e-6)
        return x / scale, scale  # (batch, lookback, columns), (batch, 1, columns)

    def get_config(self):
        return {**super().get_config(), "floor": self.floor}
