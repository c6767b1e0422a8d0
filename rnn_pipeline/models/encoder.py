"""The recurrent encoder every stack of the package runs: `recurrent_stack`'s layers, each
followed by dropout, over vectors [batch, time, features] under an optional mask.

`RNNBackbone` runs it over embedded token ids; `FrameBackbone` over float feature frames
(log-mel frames of speech). Both build the layers with `encoder_layers` and run them with
`run_encoder`: one stack code, with the same seeds and layer names, so that the backbone's
saved weights and losses are those it had before the frame backbone existed.
"""

import keras

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.models.cells import recurrent_stack


def check_rate(name, value):
    """A dropout rate: in [0, 1)."""
    if not 0.0 <= value < 1.0:
        raise pipeline_error(name, "must be in [0, 1)", value)
    return value


def encoder_layers(cell, units, num_layers, bidirectional=False, dropout=0.0, seed=0,
                   **options):
    """The layers of a recurrent encoder: ``(rnn_layers, dropout_layers)``.

    Args:
        cell, units, num_layers, bidirectional: the stack (`recurrent_stack`); layer i is
            seeded ``seed + 10 + 10 * i``.
        dropout: rate of the dropout after every recurrent layer (``dropout_{i}``, seeded
            ``seed + i + 1``).
        seed: initialisation and dropout seed.
        **options: activation, init_scale, recurrent_initializer, stateful, dtype.
    """
    check_rate("dropout", dropout)
    rnn_layers = recurrent_stack(cell, units, num_layers, bidirectional, first_seed=seed + 10,
                                 **options)
    dropout_layers = [keras.layers.Dropout(dropout, seed=seed + i + 1, name=f"dropout_{i}")
                      for i in range(num_layers)]
    return rnn_layers, dropout_layers


def run_encoder(x, rnn_layers, dropout_layers, mask=None, training=None):
    """Runs the encoder's layers over ``x`` (batch, time, features): each recurrent layer
    under ``mask`` (batch, time) bool, then its dropout.

    Returns:
        (batch, time, units * directions).
    """
    for rnn, drop in zip(rnn_layers, dropout_layers):
        x = drop(rnn(x, mask=mask, training=training), training=training)
    return x


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class FrameBackbone(keras.layers.Layer):
    """Float frames [batch, time, input_dim] -> contextual vectors [batch, time,
    units * directions], under a mask of real frames: dropout on the frames, an optional
    linear projection, then the recurrent encoder (`encoder_layers`, as `RNNBackbone`).

    With a mask, padding frames change nothing for the real ones (the backward direction
    starts at the last real frame); the outputs at padding frames are not meaningful.

    Args:
        input_dim: features per frame (e.g. log-mel bins).
        cell: "simple_rnn", "lstm" or "gru".
        units: hidden units per layer (per direction).
        num_layers: stacked recurrent layers.
        bidirectional: wrap each layer in `keras.layers.Bidirectional` (concatenated).
        dropout: dropout after every recurrent layer.
        input_dropout: dropout on the input frames.
        projection_dim: size of a linear projection of each frame before the stack;
            0 = none.
        activation: activation of the recurrent cell.
        init_scale: uniform init in [-init_scale, init_scale]; None = Keras defaults.
        recurrent_initializer: "orthogonal", "glorot_uniform" or "identity" for W_h.
        seed: initialisation and dropout seed.
    """

    def __init__(self, input_dim, cell="lstm", units=128, num_layers=2, bidirectional=True,
                 dropout=0.0, input_dropout=0.0, projection_dim=0, activation="tanh",
                 init_scale=None, recurrent_initializer=None, seed=0, **kwargs):
        for name, value, low in (("input_dim", input_dim, 1),
                                 ("projection_dim", projection_dim, 0)):
            if not isinstance(value, int) or value < low:
                raise pipeline_error(name, f"must be an integer of at least {low}", value)
        check_rate("input_dropout", input_dropout)
        super().__init__(**kwargs)
        self.supports_masking = True
        self.frame_config = {
            "input_dim": input_dim, "cell": cell, "units": units, "num_layers": num_layers,
            "bidirectional": bidirectional, "dropout": dropout, "input_dropout": input_dropout,
            "projection_dim": projection_dim, "activation": activation,
            "init_scale": init_scale, "recurrent_initializer": recurrent_initializer,
            "seed": seed}
        self.input_dim, self.units, self.bidirectional = input_dim, units, bidirectional
        # === Layers ===
        self.input_dropout = keras.layers.Dropout(input_dropout, seed=seed,
                                                  name="input_dropout")
        self.projection = None
        if projection_dim:
            init = {} if init_scale is None else {
                "kernel_initializer": keras.initializers.RandomUniform(
                    -init_scale, init_scale, seed=seed + 5)}
            self.projection = keras.layers.Dense(projection_dim, name="input_projection",
                                                 **init)
        self.rnn_layers, self.dropout_layers = encoder_layers(
            cell, units, num_layers, bidirectional, dropout, seed, activation=activation,
            init_scale=init_scale, recurrent_initializer=recurrent_initializer)

    @property
    def output_dim(self):
        return self.units * (2 if self.bidirectional else 1)

    def build(self, input_shape=None):
        shape = (None, None, self.input_dim)
        if self.projection is not None:
            self.projection.build(shape)
            shape = self.projection.compute_output_shape(shape)
        for rnn in self.rnn_layers:
            rnn.build(shape)
            shape = (None, None, rnn.compute_output_shape(shape)[-1])
        self.built = True

    def call(self, frames, mask=None, training=None):
        """Args:
            frames: (batch, time, input_dim) float.
            mask: (batch, time) bool, True on real frames; None = all real.
            training: dropout on or off.

        Returns:
            (batch, time, units * directions).
        """
        x = self.input_dropout(frames, training=training)
        if self.projection is not None:
            x = self.projection(x)  # (batch, time, projection_dim)
        return run_encoder(x, self.rnn_layers, self.dropout_layers, mask=mask,
                           training=training)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.output_dim)

    def get_config(self):
        return {**super().get_config(), **self.frame_config}
