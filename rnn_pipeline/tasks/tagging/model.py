"""The sequence tagger: raw tokens -> word (and character) features -> a bidirectional
recurrent stack -> a softmax or linear-chain CRF head (Lample et al. 2016).

The model takes tokens as strings, (batch, words) padded with ""; words and characters
are looked up inside the graph, so an exported model takes tokens as they are. The mask
of real tokens is ``tokens != ""``; every recurrent layer gets it, so padding changes
nothing for the real tokens (the backward direction starts at the last real token).
"""

import keras
import tensorflow as tf

from rnn_pipeline.errors import config_keys, pipeline_error
from rnn_pipeline.models.builder import _keys
from rnn_pipeline.models.cells import recurrent_layer, recurrent_stack
from rnn_pipeline.models.task import SubclassedTask
from rnn_pipeline.tasks.tagging.config import TAGGING_HEADS
from rnn_pipeline.tasks.tagging.crf import LinearChainCRF, bio_allowed_transitions
from rnn_pipeline.tasks.tagging.data import UNK, TaggingVocabularies


def is_iob2(tags):
    """Whether every tag is ``O``, ``B-TYPE`` or ``I-TYPE``."""
    return all(t == "O" or (t[:2] in ("B-", "I-") and len(t) > 2) for t in tags)


def _lookup(entries, name):
    """"" -> 0 (padding), an unknown entry -> 1 (``<unk>``), ``entries[i]`` -> i."""
    return keras.layers.StringLookup(vocabulary=list(entries[2:]), mask_token="",
                                     num_oov_indices=1, oov_token=UNK, name=name)


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class TagAccuracy(keras.metrics.Mean):
    """Share of right tags, weighted by the sample weights (0 on padding).

    ``y_pred`` is either tag ids (batch, words) or scores (batch, words, tags) (argmax).
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if len(y_pred.shape) == 3:
            y_pred = tf.argmax(y_pred, axis=-1, output_type=tf.int32)  # (batch, words)
        right = tf.cast(tf.equal(tf.cast(y_true, tf.int32), tf.cast(y_pred, tf.int32)),
                        "float32")
        return super().update_state(right, sample_weight=sample_weight)


class _SequenceNLL(keras.losses.Loss):
    """A loss whose ``y_pred`` already is each row's NLL: Keras reduces and scales it
    for the replicas as its own losses."""

    def call(self, y_true, y_pred):
        return y_pred


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class SequenceTagger(SubclassedTask):
    """Tokens (batch, words) tf.string, "" padded -> one tag per token.

    ``call`` returns (batch, words, tags) float32 scores: log-probabilities with the
    "softmax" head, the CRF's unary potentials with "crf". `predict_tags` decodes them
    (argmax, or Viterbi). The train step's loss is the head's own (`forward_loss`):
    token cross-entropy averaged over real tokens, or the CRF's mean NLL per sentence.

    Args:
        words: words in id order, ``<pad>``, ``<unk>`` first (`TaggingVocabularies`).
        characters: characters in id order, ``<pad>``, ``<unk>`` first.
        tags: tag names in id order.
        head: "softmax" or "crf".
        constrain_bio: with "crf" and IOB2 tags, decode only paths IOB2 allows.
        lowercase: look words up in lower case (characters keep their case).
        cell, units, num_layers, bidirectional, activation, init_scale,
            recurrent_initializer: the recurrent stack (`recurrent_stack`).
        dropout: dropout on the token features and after every recurrent layer.
        word_dropout: in training, each real word is looked up as ``<unk>`` with this
            probability, so that the ``<unk>`` vector (every unseen word's) is trained.
        embedding_dim: size of the word vectors.
        char_embedding_dim: size of the character vectors; 0 = no character features.
        char_units: units per direction of the character BiLSTM.
        seed: initialisation and dropout seed.
    """

    def __init__(self, words, characters, tags, head="softmax", constrain_bio=True,
                 lowercase=False, cell="lstm", units=100, num_layers=1, dropout=0.5,
                 bidirectional=True, embedding_dim=100, char_embedding_dim=25,
                 char_units=25, word_dropout=0.0, activation="tanh", init_scale=None,
                 recurrent_initializer=None, seed=0, **kwargs):
        TaggingVocabularies(words, characters, tags)  # checks <pad>, <unk> first
        TAGGING_HEADS.check(head, "head")
        if not tags:
            raise pipeline_error("tags", "must hold at least one tag", tags)
        for name, value in (("dropout", dropout), ("word_dropout", word_dropout)):
            if not 0.0 <= value < 1.0:
                raise pipeline_error(name, "must be in [0, 1)", value)
        for name, value, low in (("embedding_dim", embedding_dim, 1),
                                 ("char_embedding_dim", char_embedding_dim, 0),
                                 ("char_units", char_units, 1)):
            if value < low:
                raise pipeline_error(name, f"must be at least {low}", value)
        super().__init__(**kwargs)
        self.task_config = {
            "words": list(words), "characters": list(characters), "tags": list(tags),
            "head": head, "constrain_bio": constrain_bio, "lowercase": lowercase,
            "cell": cell, "units": units, "num_layers": num_layers, "dropout": dropout,
            "bidirectional": bidirectional, "embedding_dim": embedding_dim,
            "char_embedding_dim": char_embedding_dim, "char_units": char_units,
            "word_dropout": word_dropout, "activation": activation, "init_scale": init_scale,
            "recurrent_initializer": recurrent_initializer, "seed": seed}
        self.head, self.lowercase, self.num_tags = head, lowercase, len(tags)
        self.word_dropout = word_dropout
        self.word_dropout_seeds = keras.random.SeedGenerator(seed + 3, name="word_dropout")
        self.constrained = head == "crf" and constrain_bio and is_iob2(tags)
        init = ("uniform" if init_scale is None
                else keras.initializers.RandomUniform(-init_scale, init_scale, seed=seed))
        # === Layers ===
        self.word_lookup = _lookup(words, "word_lookup")
        self.word_embedding = keras.layers.Embedding(
            len(words), embedding_dim, embeddings_initializer=init, name="word_embedding")
        self.char_lookup = self.char_embedding = self.char_rnn = None
        if char_embedding_dim:
            self.char_lookup = _lookup(characters, "char_lookup")
            self.char_embedding = keras.layers.Embedding(
                len(characters), char_embedding_dim, embeddings_initializer=init,
                name="char_embedding")
            self.char_rnn = recurrent_layer(  # Lample et al.: both final states
                "lstm", char_units, 0, bidirectional=True, first_seed=seed + 5,
                init_scale=init_scale, return_sequences=False, name="char_lstm",
                bidirectional_name="char_bi_lstm")
        self.feature_dropout = keras.layers.Dropout(dropout, seed=seed, name="feature_dropout")
        self.rnn_layers = recurrent_stack(
            cell, units, num_layers, bidirectional, first_seed=seed + 10,
            activation=activation, init_scale=init_scale,
            recurrent_initializer=recurrent_initializer)
        self.dropout_layers = [keras.layers.Dropout(dropout, seed=seed + i + 1,
                                                    name=f"dropout_{i}")
                               for i in range(num_layers)]
        self.tag_projection = keras.layers.Dense(len(tags), name="tag_projection")
        self.crf = None
        if head == "crf":
            allowed = bio_allowed_transitions(tags) if self.constrained else {}
            self.crf = LinearChainCRF(len(tags), **allowed, name="crf")
        self.sequence_nll = _SequenceNLL(name="sequence_nll")
        self.token_nll = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight", name="token_nll")
        self.build()

    def build(self, input_shape=None):
        """Builds every layer with one sentence (the input is strings, whatever the
        shape Keras passes)."""
        if self.built:
            return
        tokens = tf.constant([["a", ""]])
        self._decode(tokens, self._scores(tokens, training=False))
        self.built = True

    # === Forward pass ===
    @staticmethod
    def _tokens(inputs):
        """The tokens of ``inputs``, a tensor or {"tokens": tensor}: (batch, words)."""
        tokens = inputs["tokens"] if isinstance(inputs, dict) else inputs
        return tf.convert_to_tensor(tokens, tf.string)

    def _char_features(self, tokens, mask):
        """The character BiLSTM's final states of every real word, 0 on padding."""
        real = tf.where(mask)  # (real words, 2)
        # One more word and one more character, "", so that no shape is 0.
        words = tf.concat([tf.gather_nd(tokens, real), [""]], axis=0)  # (real + 1,)
        chars = tf.strings.unicode_split(words, "UTF-8").to_tensor(default_value="")
        chars = tf.pad(chars, [[0, 0], [0, 1]], constant_values="")  # (real + 1, chars)
        ids = self.char_lookup(chars)  # (real + 1, chars)
        states = self.char_rnn(self.char_embedding(ids), mask=tf.not_equal(ids, 0))[:-1]
        shape = tf.concat([tf.shape(tokens, out_type=tf.int64),
                           tf.shape(states, out_type=tf.int64)[1:]], axis=0)
        return tf.scatter_nd(real, states, shape)  # (batch, words, 2 * char_units)

    def _scores(self, tokens, training=False):
        """Unary scores (batch, words, tags), float32, before the head."""
        mask = tf.not_equal(tokens, "")  # (batch, words)
        words = tf.strings.lower(tokens, encoding="utf-8") if self.lowercase else tokens
        ids = self.word_lookup(words)  # (batch, words), 1 = <unk>
        if training and self.word_dropout:
            dropped = keras.random.uniform(tf.shape(ids), seed=self.word_dropout_seeds) \
                < self.word_dropout
            ids = tf.where(dropped & mask, tf.ones_like(ids), ids)
        x = self.word_embedding(ids)  # (batch, words, embedding_dim)
        if self.char_rnn is not None:
            chars = tf.cast(self._char_features(tokens, mask), x.dtype)
            x = tf.concat([x, chars], axis=-1)  # (batch, words, features)
        x = self.feature_dropout(x, training=training)
        for rnn, drop in zip(self.rnn_layers, self.dropout_layers):
            x = drop(rnn(x, mask=mask, training=training), training=training)
        return tf.cast(self.tag_projection(x), tf.float32)  # (batch, words, tags)

    def call(self, inputs, training=False):
        """Log-probabilities ("softmax") or CRF potentials ("crf"), (batch, words, tags)."""
        scores = self._scores(self._tokens(inputs), training=training)
        return scores if self.crf is not None else tf.nn.log_softmax(scores, axis=-1)

    def _decode(self, tokens, scores):
        mask = tf.not_equal(tokens, "")  # (batch, words)
        if self.crf is not None:
            return self.crf(scores, mask=mask)  # Viterbi, 0 on padding
        return tf.where(mask, tf.argmax(scores, axis=-1, output_type=tf.int32), 0)

    def predict_tags(self, inputs):
        """Tag ids, int32 (batch, words), 0 on padding (argmax, or the CRF's Viterbi).

        Args:
            inputs: tokens (batch, words) tf.string "" padded, or {"tokens": tokens}.
        """
        tokens = self._tokens(inputs)
        return self._decode(tokens, self(tokens, training=False))

    # === Training ===
    def forward_loss(self, x, y, sample_weight=None, training=False):
        """The head's loss and what the metrics read: log-probabilities ("softmax") or
        Viterbi tags ("crf"). The CRF's loss is per sentence (sample weights unused)."""
        tokens = self._tokens(x)
        mask = tf.not_equal(tokens, "")  # (batch, words)
        scores = self(tokens, training=training)  # (batch, words, tags)
        if self.crf is None:
            weights = tf.cast(mask, tf.float32) if sample_weight is None else sample_weight
            loss, y_pred = self.token_nll(y, scores, sample_weight=weights), scores
        else:
            nll = -self.crf.log_likelihood(scores, y, mask)  # (batch,)
            loss, y_pred = self.sequence_nll(y, nll), self.crf.viterbi(scores, mask)[0]
        if self.losses:
            loss = loss + keras.ops.sum(self.losses)
        return loss, y_pred

    @staticmethod
    def _masked(data):
        """(x, y, weights): the weights default to the mask of real tokens."""
        x, y, weights = keras.utils.unpack_x_y_sample_weight(data)
        if weights is None and y is not None:
            weights = tf.cast(tf.not_equal(SequenceTagger._tokens(x), ""), tf.float32)
        return x, y, weights

    def train_step(self, data):
        return super().train_step(self._masked(data))

    def test_step(self, data):
        return super().test_step(self._masked(data))

    def compile(self, optimizer="adam", weighted_metrics=None, jit_compile=False, **kwargs):
        """Args:
            optimizer: a Keras optimizer (instance or name).
            weighted_metrics: defaults to `TagAccuracy` ("accuracy", real tokens only).
            jit_compile: XLA cannot compile the string lookups.
        """
        if kwargs.get("loss") is not None:
            raise pipeline_error("loss", "must be unset: the tagger trains on its head's "
                                 "own loss", kwargs["loss"])
        kwargs.pop("loss", None)
        super().compile(optimizer=optimizer, jit_compile=jit_compile,
                        weighted_metrics=([TagAccuracy()] if weighted_metrics is None
                                          else weighted_metrics), **kwargs)


def build_tagger(model_config, vocabularies, tagging_section, seed=0):
    """A `SequenceTagger` from the ``[model]`` and ``[tagging]`` sections.

    Args:
        model_config: a `TaggingModelConfig`.
        vocabularies: the fitted `TaggingVocabularies`.
        tagging_section: a `TaggingSection` (constrain_bio).
        seed: initialisation and dropout seed.
    """
    m = model_config
    optional = {key: getattr(m, key) for key in
                ("activation", "init_scale", "recurrent_initializer") if hasattr(m, key)}
    with config_keys(_keys(model=m, tagging=tagging_section)):
        return SequenceTagger(
            vocabularies.words, vocabularies.characters, vocabularies.tags, head=m.head,
            constrain_bio=tagging_section.constrain_bio, lowercase=vocabularies.lowercase,
            cell=m.cell, units=m.units, num_layers=m.num_layers, dropout=m.dropout,
            bidirectional=m.bidirectional, embedding_dim=m.embedding_dim,
            char_embedding_dim=m.char_embedding_dim, char_units=m.char_units,
            word_dropout=m.word_dropout, seed=seed,
            name="sequence_tagger", **optional)
