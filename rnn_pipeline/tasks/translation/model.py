"""The encoder-decoder translation task: source ids + shifted target ids -> target logits.

The encoder reads the padded source (masked, optionally bidirectional). Its final states
become the decoder's initial states: with ``merge="concat"`` the forward and backward
states of each layer are concatenated and mapped to ``units`` by a linear Dense layer
(not tanh: a tanh bridge saturated within 25 Adam steps on Tatoeba and cut the encoder
off, see BENCHMARKS.md); with ``merge="sum"`` they are added. A unidirectional
encoder hands its states over unchanged.

Attention is Luong's "global" form without input feeding: the decoder RNN runs over the
target first, then every decoder output queries the encoder outputs, and the attentional
vector ``W [context; h]`` feeds the softmax. Training therefore stays one parallel pass.
Luong's ``tanh`` is left out of that vector for the same reason as in the bridge: with
Adam (lr 0.002) and 512 inputs it saturated within 50 steps on Tatoeba (mean |output|
0.999), and attention trained slower than no attention (BENCHMARKS.md).
"""

import keras

from rnn_pipeline.choices import ATTENTIONS, MERGES
from rnn_pipeline.errors import config_keys, pipeline_error
from rnn_pipeline.models.builder import _keys
from rnn_pipeline.models.cells import recurrent_layer
from rnn_pipeline.models.task import TokenTask

ATTENTIONS.register("none")(None)
ATTENTIONS.register("additive")(keras.layers.AdditiveAttention)  # Bahdanau et al. 2015
ATTENTIONS.register("dot")(keras.layers.Attention)  # Luong et al. 2015


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class Seq2SeqTranslator(TokenTask):
    """Encoder-decoder RNN with optional attention (inputs: ``source_ids``, ``target_ids``).

    Args:
        source_vocabulary_size: source token ids.
        target_vocabulary_size: target token ids.
        pad_id: padding id of both sides (masked in the encoder, weight 0 in the loss).
        cell: "simple_rnn", "lstm" or "gru" (encoder and decoder).
        embedding_dim: size of the token vectors.
        units: hidden units per layer (per direction in the encoder).
        num_layers: stacked layers of the encoder and of the decoder.
        bidirectional: bidirectional encoder.
        merge: "concat" (+ Dense) or "sum": how forward and backward states are merged.
        attention: "none", "additive" or "dot".
        dropout: dropout on embeddings and layer outputs.
        seed: initialisation and dropout seed.
        source_preprocessor, target_preprocessor: optional `TextPreprocessor`s used by
            `translate`; the model itself only sees ids.
    """

    nested_objects = ("source_preprocessor", "target_preprocessor")

    def __init__(self, source_vocabulary_size, target_vocabulary_size, pad_id, cell="lstm",
                 embedding_dim=128, units=128, num_layers=1, bidirectional=True,
                 merge="concat", attention="additive", dropout=0.0, seed=0,
                 source_preprocessor=None, target_preprocessor=None, **kwargs):
        attention_class = ATTENTIONS.get(attention, "attention")
        if merge not in MERGES.declared:
            raise pipeline_error("merge", "must be one of: " + ", ".join(
                map(repr, MERGES.declared)), merge)
        for name, value in (("num_layers", num_layers), ("units", units),
                            ("embedding_dim", embedding_dim)):
            if value < 1:
                raise pipeline_error(name, "must be at least 1", value)
        # === Layers ===
        self.source_embedding = keras.layers.Embedding(source_vocabulary_size, embedding_dim,
                                                       name="source_embedding")
        self.target_embedding = keras.layers.Embedding(target_vocabulary_size, embedding_dim,
                                                       name="target_embedding")
        self.dropout_layer = keras.layers.Dropout(dropout, seed=seed, name="dropout")
        self.encoder_layers, self.decoder_layers = [], []
        for i in range(num_layers):  # encoder and decoder layer i, in this order
            self.encoder_layers.append(recurrent_layer(
                cell, units, i, bidirectional, first_seed=seed, name="encoder_{cell}_{i}",
                bidirectional_name="encoder_bi_{i}", return_sequences=True, return_state=True))
            self.decoder_layers.append(recurrent_layer(
                cell, units, i, first_seed=seed + 5, name="decoder_{cell}_{i}",
                return_sequences=True, return_state=True))
        self.state_bridges = []
        if bidirectional and merge == "concat":
            self.state_bridges = [
                keras.layers.Dense(units, name=f"bridge_{i}_{j}")
                for i in range(num_layers) for j in range(2 if cell == "lstm" else 1)]
        self.attention_layer = self.memory_projection = self.attentional = None
        if attention_class is not None:
            self.memory_projection = keras.layers.Dense(units, use_bias=False, name="memory")
            self.attention_layer = attention_class(name="attention")
            self.attentional = keras.layers.Dense(units, name="attentional")  # linear
        self.output_projection = keras.layers.Dense(target_vocabulary_size, name="logits")
        # === Config ===
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.pad_id = pad_id
        self.cell = cell
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.merge = merge
        self.attention = attention
        self.dropout = dropout
        self.seed = seed
        # === Functional graph ===
        source_ids = keras.Input(shape=(None,), dtype="int32", name="source_ids")
        target_ids = keras.Input(shape=(None,), dtype="int32", name="target_ids")
        memory, memory_mask, states = self.encode(source_ids)
        x = self.dropout_layer(self.target_embedding(target_ids))  # (batch, T, embedding_dim)
        for layer, initial in zip(self.decoder_layers, self._per_layer(states)):
            x, *_ = layer(x, initial_state=initial)  # (batch, T, units)
            x = self.dropout_layer(x)
        logits = self.readout(x, memory, memory_mask)  # (batch, T, target_vocab)
        super().__init__(inputs={"source_ids": source_ids, "target_ids": target_ids},
                         outputs=logits, **kwargs)
        self.source_preprocessor = source_preprocessor
        self.target_preprocessor = target_preprocessor
        self.task_config = {key: getattr(self, key) for key in (
            "source_vocabulary_size", "target_vocabulary_size", "pad_id", "cell",
            "embedding_dim", "units", "num_layers", "bidirectional", "merge", "attention",
            "dropout", "seed")}

    def _per_layer(self, flat_states):
        n = len(flat_states) // len(self.decoder_layers)
        return [flat_states[i * n:(i + 1) * n] for i in range(len(self.decoder_layers))]

    def encode(self, source_ids, training=None):
        """Reads the padded source.

        Returns:
            (memory (batch, S, units) or None without attention, mask (batch, S),
            flat list of decoder initial states, (batch, units) each).
        """
        mask = keras.ops.not_equal(source_ids, self.pad_id)  # (batch, S)
        x = self.dropout_layer(self.source_embedding(source_ids), training=training)
        states = []
        for layer in self.encoder_layers:
            x, *layer_states = layer(x, mask=mask, training=training)  # (batch, S, units*dirs)
            x = self.dropout_layer(x, training=training)
            states += self._merge(layer_states, len(states))
        memory = self.memory_projection(x) if self.memory_projection is not None else None
        return memory, mask, states

    def _merge(self, layer_states, offset):
        """Forward + backward states of one encoder layer -> the decoder's states."""
        if not self.bidirectional:
            return list(layer_states)
        half = len(layer_states) // 2
        forward, backward = layer_states[:half], layer_states[half:]
        if self.state_bridges:
            return [self.state_bridges[offset + j](keras.ops.concatenate([f, b], axis=-1))
                    for j, (f, b) in enumerate(zip(forward, backward))]
        return [f + b for f, b in zip(forward, backward)]

    def readout(self, hidden, memory, memory_mask):
        """Decoder outputs (batch, T, units) -> logits (batch, T, target_vocab)."""
        if self.attention_layer is not None:
            context = self.attention_layer([hidden, memory], mask=[None, memory_mask])
            hidden = self.attentional(keras.ops.concatenate([context, hidden], axis=-1))
        return self.output_projection(hidden)

    def attention_weights(self, source_ids, target_ids):
        """Teacher forcing: where each decoder step attends (inference, no dropout).

        Args:
            source_ids: int32 (batch, S), padded with ``pad_id``.
            target_ids: int32 (batch, T), the decoder's inputs (``<bos>`` + target).

        Returns:
            float32 (batch, T, S): each row a distribution over the real source positions
            (0 at padding).
        """
        if self.attention_layer is None:
            raise pipeline_error("attention", "must not be 'none' to have attention weights",
                                 self.attention)
        memory, memory_mask, states = self.encode(source_ids, training=False)
        x = self.target_embedding(target_ids)  # (batch, T, embedding_dim)
        for layer, initial in zip(self.decoder_layers, self._per_layer(states)):
            x, *_ = layer(x, initial_state=initial, training=False)  # (batch, T, units)
        _, weights = self.attention_layer([x, memory], mask=[None, memory_mask],
                                          return_attention_scores=True)
        return keras.ops.cast(weights, "float32")  # (batch, T, S)


def build_translator(config, source_size, target_size, pad_id, source_preprocessor=None,
                     target_preprocessor=None):
    """A `Seq2SeqTranslator` from ``[model]``.

    Args:
        config: a `PipelineConfig`.
        source_size, target_size: both sides' vocabulary sizes.
        pad_id: padding id of both sides.
        source_preprocessor, target_preprocessor: kept with the model for `translate`.
    """
    m = config.model
    with config_keys(_keys(model=m)):
        return Seq2SeqTranslator(
            source_size, target_size, pad_id=pad_id, cell=m.cell, embedding_dim=m.embedding_dim,
            units=m.units, num_layers=m.num_layers, bidirectional=m.bidirectional,
            merge=m.merge, attention=m.attention, dropout=m.dropout, seed=config.train.seed,
            source_preprocessor=source_preprocessor, target_preprocessor=target_preprocessor,
            name="translator")
