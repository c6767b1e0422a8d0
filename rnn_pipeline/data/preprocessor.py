"""Text -> token ids inside the TensorFlow graph (normalize, tokenize, look up)."""

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from rnn_pipeline import choices
from rnn_pipeline.data.vocabulary import EOS, UNK
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tokenizers import tokenizer_from_config

NORMALIZATIONS = choices.NORMALIZATIONS.declared


def normalize(text, normalization="nfkc", lowercase=False):
    """Unicode NFKC (optional) and lower-casing, on a tf.string tensor of any shape."""
    if normalization not in NORMALIZATIONS:
        raise pipeline_error("text.normalization", f"must be one of: {', '.join(NORMALIZATIONS)}",
                             normalization)
    if normalization == "nfkc":
        text = tf_text.normalize_utf8(text, "NFKC")
    if lowercase:
        text = tf.strings.lower(text, encoding="utf-8")
    return text


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class TextPreprocessor(keras.layers.Layer):
    """Raw strings -> ragged int32 token ids. Models never see strings; this layer does.

    Args:
        tokenizer: tokenizer config (`Tokenizer.get_config`).
        vocabulary: tokens in id order (``Vocabulary.itos``).
        normalization: "nfkc" or "none".
        lowercase: lower-case after normalization.
    """

    def __init__(self, tokenizer, vocabulary, normalization="nfkc", lowercase=False, **kwargs):
        kwargs.update(trainable=False, dtype="string")
        super().__init__(**kwargs)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.tokenizer_config = tokenizer
        self.tokenizer = tokenizer_from_config(tokenizer)
        self.vocabulary = list(vocabulary)
        self.normalization = normalization
        self.lowercase = lowercase
        # "<unk>" is the OOV bucket (id 0); the vocabulary list starts after it.
        self.lookup = keras.layers.StringLookup(vocabulary=self.vocabulary[1:], num_oov_indices=1,
                                                oov_token=UNK, mask_token=None)

    def build(self, input_shape=None):
        """Nothing to build: the lookup table is made from the vocabulary in ``__init__``
        (Keras would otherwise warn, when a saved model is loaded, of unbuilt state)."""
        self.built = True

    def tokens(self, text):
        """(batch,) string -> (batch, None) ragged string tokens."""
        return self.tokenizer.tokenize(normalize(text, self.normalization, self.lowercase))

    def detokenize(self, ids):
        """(batch, None) ragged ids -> (batch,) text; ``<eos>`` becomes a line break."""
        return self.detokenize_tokens(tf.gather(tf.constant(self.vocabulary), ids))

    def detokenize_tokens(self, tokens):
        """(batch, None) ragged string tokens -> (batch,) text; ``<eos>`` becomes a line
        break."""
        tokens = tf.ragged.map_flat_values(
            lambda t: tf.where(t == EOS, "\n", t), tokens)
        text = self.tokenizer.detokenize(tokens)
        return tf.strings.regex_replace(text, " ?\n ?", "\n")

    def join(self, prompts, continuations):
        """Prompt + continuation, with the tokenizer's separator when both are non-empty."""
        both = (tf.strings.length(prompts) > 0) & (tf.strings.length(continuations) > 0)
        separator = self.tokenizer.separator
        return tf.where(both, prompts + separator + continuations, prompts + continuations)

    def graph_functions(self):
        """``(tokens, ids)`` as `tf.function`s traced once for any batch of lines, so that
        every tf.data pipeline over this preprocessor reuses one graph."""
        if not hasattr(self, "_graph_functions"):
            spec = [tf.TensorSpec([None], tf.string)]
            self._graph_functions = (tf.function(self.tokens, input_signature=spec),
                                     tf.function(self.call, input_signature=spec))
        return self._graph_functions

    def call(self, text):
        """(batch,) string -> (batch, None) ragged int32 ids."""
        return tf.cast(self.lookup(self.tokens(text)), tf.int32)

    def get_config(self):
        config = super().get_config()
        config.update(tokenizer=self.tokenizer_config, vocabulary=self.vocabulary,
                      normalization=self.normalization, lowercase=self.lowercase)
        return config
