"""The recurrent backbone: token ids -> contextual vectors (keras-hub's backbone role)."""

import keras

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.models.encoder import check_rate, encoder_layers, run_encoder


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class RNNBackbone(keras.Model):
    """Embedding -> ``num_layers`` stacked recurrent layers, with dropout.

    The language model's backbone; its recurrent layers and their dropout are the
    encoder of `rnn_pipeline.models.encoder` (`encoder_layers`, `run_encoder`), which
    `FrameBackbone` also runs over float frames; `recurrent_stack` also builds the
    translator's encoder and decoder and the forecaster's encoder.

    Args:
        vocabulary_size: number of token ids.
        cell: "simple_rnn", "lstm" or "gru".
        activation: activation of the recurrent cell.
        embedding_dim: size of the token vectors.
        units: hidden units per layer (per direction).
        num_layers: stacked recurrent layers.
        dropout: dropout after every recurrent layer.
        embedding_dropout: dropout on the token vectors.
        bidirectional: wrap each layer in `keras.layers.Bidirectional` (concatenated).
        init_scale: uniform init in [-init_scale, init_scale]; None = Keras defaults.
        recurrent_initializer: "orthogonal", "glorot_uniform" or "identity" for W_h;
            None = the Keras default (orthogonal).
        batch_size: fixed batch size (needed when ``stateful``).
        stateful: carry the hidden state from one batch to the next (truncated BPTT).
        seed: initialisation and dropout seed.
    """

    def __init__(self, vocabulary_size, cell="lstm", activation="tanh", embedding_dim=200,
                 units=200, num_layers=2, dropout=0.0, embedding_dropout=0.0,
                 bidirectional=False, init_scale=None, recurrent_initializer=None,
                 batch_size=None, stateful=False, seed=0,
                 dtype=None, **kwargs):
        if embedding_dim < 1:
            raise pipeline_error("embedding_dim", "must be at least 1", embedding_dim)
        check_rate("dropout", dropout)
        check_rate("embedding_dropout", embedding_dropout)
        init = ("uniform" if init_scale is None
                else keras.initializers.RandomUniform(-init_scale, init_scale, seed=seed))
        # === Layers ===
        self.token_embedding = keras.layers.ReversibleEmbedding(
            vocabulary_size, embedding_dim, tie_weights=True, embeddings_initializer=init,
            dtype=dtype, name="token_embedding")
        self.embedding_dropout = keras.layers.Dropout(embedding_dropout, seed=seed,
                                                      name="embedding_dropout")
        self.rnn_layers, self.dropout_layers = encoder_layers(
            cell, units, num_layers, bidirectional, dropout, seed, activation=activation,
            init_scale=init_scale, recurrent_initializer=recurrent_initializer,
            stateful=stateful, dtype=dtype)
        # === Functional graph ===
        token_ids = keras.Input(batch_shape=(batch_size, None), dtype="int32", name="token_ids")
        x = self.embedding_dropout(self.token_embedding(token_ids))  # (batch, time, embedding_dim)
        x = run_encoder(x, self.rnn_layers, self.dropout_layers)  # (batch, time, units * dirs)
        super().__init__(inputs=token_ids, outputs=x, dtype=dtype, **kwargs)
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.cell = cell
        self.activation = activation
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.dropout = dropout
        self.embedding_dropout_rate = embedding_dropout
        self.bidirectional = bidirectional
        self.init_scale = init_scale
        self.recurrent_initializer = recurrent_initializer
        self.batch_size = batch_size
        self.stateful = stateful
        self.seed = seed

    @property
    def output_dim(self):
        return self.units * (2 if self.bidirectional else 1)

    def get_config(self):
        return {
            "name": self.name, "trainable": self.trainable,
            "vocabulary_size": self.vocabulary_size, "cell": self.cell,
            "activation": self.activation, "embedding_dim": self.embedding_dim,
            "units": self.units, "num_layers": self.num_layers, "dropout": self.dropout,
            "embedding_dropout": self.embedding_dropout_rate,
            "bidirectional": self.bidirectional, "init_scale": self.init_scale,
            "recurrent_initializer": self.recurrent_initializer,
            "batch_size": self.batch_size, "stateful": self.stateful, "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
