"""The forecasting task: raw history window -> raw forecast. Scaling (fitted on the
training rows) and instance normalisation live inside the model, so an export takes and
returns values on the original scale."""

import keras
import numpy as np
from keras import ops

from rnn_pipeline.choices import HEADS
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.models.task import Task
from rnn_pipeline.models.cells import recurrent_stack
from rnn_pipeline.models.forecast_layers import (DecoderCell, SegmentRecurrentHead,
                                                 StepEmbedding, WindowShift)


def _encode(x, spec):
    """Stacked (optionally bidirectional) RNN -> the last step's vector (batch, units*dirs).
    Bidirectional is legal here: the whole lookback window is the past."""
    layers = recurrent_stack(spec["cell"], spec["units"], spec["num_layers"],
                             spec["bidirectional"], first_seed=spec["seed"] + 10,
                             last_return_sequences=False, name="encoder_{i}",
                             bidirectional_name="bi_encoder_{i}")
    for i, rnn in enumerate(layers):
        x = keras.layers.Dropout(spec["dropout"], seed=spec["seed"] + i)(rnn(x))
    return x


@HEADS.register("direct")
def direct(x, spec):
    """All horizon steps at once from the encoder's final vector."""
    summary = _encode(x, spec)
    flat = keras.layers.Dense(spec["horizon"] * spec["num_targets"], name="direct")(summary)
    return keras.layers.Reshape((spec["horizon"], spec["num_targets"]))(flat)


def _decode(x, spec, feedback):
    summary = _encode(x, spec)
    cell = DecoderCell(spec["cell"], spec["units"], spec["num_targets"], feedback,
                       seed=spec["seed"] + 100, name="decoder_cell")
    initial = [keras.layers.Dense(size, activation="tanh", name=f"decoder_state_{i}")(summary)
               for i, size in enumerate(cell.inner_sizes)]
    last_value = x[:, -1, :spec["num_targets"]]  # (batch, targets): the first fed-back value
    steps = StepEmbedding(spec["horizon"], spec["units"], name="step_embedding")(x)
    rnn = keras.layers.RNN(cell, return_sequences=True, name="decoder")
    return rnn(steps, initial_state=[*initial, last_value])  # (batch, horizon, targets)


@HEADS.register("autoregressive")
def autoregressive(x, spec):
    """One step at a time, each prediction fed back as the next input."""
    return _decode(x, spec, feedback=True)


@HEADS.register("seq2seq")
def seq2seq(x, spec):
    """Encoder-decoder: a recurrent decoder over learned step embeddings, started from the
    encoder's final vector."""
    return _decode(x, spec, feedback=False)


@HEADS.register("segment")
def segment(x, spec):
    """SegRNN-style segments (see `SegmentRecurrentHead`); channel-independent."""
    if not spec["segment_length"]:
        raise pipeline_error("segment_length", "must be set for head = 'segment'",
                             spec["segment_length"])
    head = SegmentRecurrentHead(spec["lookback"], spec["horizon"], spec["num_inputs"],
                                spec["segment_length"], spec["units"], spec["dropout"],
                                spec["seed"], name="segment_head")
    return head(x)[:, :, :spec["num_targets"]]


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class Forecaster(Task):
    """history (batch, lookback, num_inputs) raw -> forecast (batch, horizon, num_targets) raw.
    The targets are the first ``num_targets`` input columns.

    Args:
        lookback, horizon: window lengths.
        num_inputs, num_targets: input columns (targets first) and forecast columns.
        mean, std: per-input-column statistics of the training rows (the scaler).
        head: "direct", "autoregressive", "seq2seq" or "segment".
        cell: "simple_rnn", "lstm" or "gru" (encoder and decoder).
        units, num_layers, bidirectional, dropout: the encoder.
        instance_norm: "none", "last" or "mean" (per window, added back at the end).
        segment_length: steps per segment ("segment" head).
        seed: initialisation seed.
    """

    def __init__(self, lookback, horizon, num_inputs, num_targets, mean, std, head="direct",
                 cell="gru", units=64, num_layers=1, bidirectional=False, dropout=0.0,
                 instance_norm="last", segment_length=None, seed=0, **kwargs):
        mean = np.asarray(mean, np.float32)
        variance = np.square(np.asarray(std, np.float32))
        spec = dict(lookback=lookback, horizon=horizon, num_inputs=num_inputs,
                    num_targets=num_targets, cell=cell, units=units, num_layers=num_layers,
                    bidirectional=bidirectional, dropout=dropout, segment_length=segment_length,
                    seed=seed)
        build_head = HEADS.get(head, "head")
        # === Functional graph ===
        history = keras.Input((lookback, num_inputs), name="history")
        x = keras.layers.Normalization(mean=mean, variance=variance, name="scale")(history)
        x, statistic = WindowShift(instance_norm, name="window_shift")(x)
        y = build_head(x, spec)  # (batch, horizon, targets), scaled and shifted
        y = y + statistic[:, :, :num_targets]
        forecast = keras.layers.Normalization(mean=mean[:num_targets],
                                              variance=variance[:num_targets], invert=True,
                                              name="unscale")(y)
        super().__init__(inputs=history, outputs=forecast, **kwargs)
        # === Config ===
        self.task_config = dict(spec, mean=mean.tolist(), std=np.sqrt(variance).tolist(),
                                head=head, instance_norm=instance_norm)
        self.target_std = np.sqrt(variance[:num_targets])

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Compile defaults of the task: MSE on the scaled targets (the ETT convention)."""
        super().compile(optimizer=optimizer, loss=loss or ScaledMSE(self.target_std.tolist()),
                        **kwargs)


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class ScaledMSE(keras.losses.Loss):
    """Mean squared error of the targets divided by their training std.

    Args:
        std: per-target standard deviation.
    """

    def __init__(self, std, name="scaled_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.std = list(std)

    def call(self, y_true, y_pred):
        error = (y_pred - y_true) / ops.convert_to_tensor(self.std, dtype=y_pred.dtype)
        return ops.mean(ops.square(error), axis=(-2, -1))

    def get_config(self):
        return {**super().get_config(), "std": self.std}
