"""The forecasting heads (one registry, `choices.HEADS`): encoded history (batch,
lookback, features) -> the forecast's parameters (batch, horizon, params, targets), scaled
and shifted, and the head's last layer (the one that writes them)."""

import keras
import numpy as np

from rnn_pipeline.choices import HEADS
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.models.cells import recurrent_stack
from rnn_pipeline.tasks.forecast.layers import DecoderCell, SegmentRecurrentHead, StepEmbedding


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
    shape = (spec["horizon"], spec["num_params"], spec["num_targets"])
    output = keras.layers.Dense(int(np.prod(shape)), name="direct")
    return keras.layers.Reshape(shape)(output(summary)), output


def _decode(x, spec, feedback):
    summary = _encode(x, spec)
    cell = DecoderCell(spec["cell"], spec["units"], spec["num_targets"], feedback,
                       seed=spec["seed"] + 100, num_params=spec["num_params"],
                       name="decoder_cell")
    initial = [keras.layers.Dense(size, activation="tanh", name=f"decoder_state_{i}")(summary)
               for i, size in enumerate(cell.inner_sizes)]
    last_value = x[:, -1, :spec["num_targets"]]  # (batch, targets): the first fed-back value
    steps = StepEmbedding(spec["horizon"], spec["units"], name="step_embedding")(x)
    rnn = keras.layers.RNN(cell, return_sequences=True, name="decoder")
    out = rnn(steps, initial_state=[*initial, last_value])  # (batch, horizon, params*targets)
    shape = (spec["horizon"], spec["num_params"], spec["num_targets"])
    return keras.layers.Reshape(shape)(out), cell.project


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
                                spec["seed"], num_params=spec["num_params"],
                                name="segment_head")
    # (batch, horizon, params, targets)
    return head(x)[:, :, :, :spec["num_targets"]], head.output_segment
