"""The tokenizer interface and its registry."""

import tensorflow as tf

from rnn_pipeline.choices import TOKENIZERS


class Tokenizer:
    """Splits normalized text into string tokens inside the TensorFlow graph.

    Subclasses implement `tokenize`; a tokenizer that must be trained
    (sentencepiece) also implements `train`.
    """

    name = None
    trainable = False
    separator = " "  # put between tokens when turning them back into text

    def train(self, lines, text_config, seed=0):
        """Fits the tokenizer on the training lines (no-op for rule-based tokenizers)."""

    def write_assets(self, assets_dir):
        """Writes the files that define a trained tokenizer into ``assets_dir``, where they
        become SavedModel assets. Rule-based tokenizers have none.

        Args:
            assets_dir: a `pathlib.Path`.

        Returns:
            list of the written `pathlib.Path`s.
        """
        return []

    def trackables(self):
        """TensorFlow objects (resources) the tokenizer's graph uses; a SavedModel that
        tokenizes must track them."""
        return []

    def pieces(self):
        """Every token a trained subword tokenizer can emit (empty for open vocabularies)."""
        return []

    def tokenize(self, text):
        """Args:
            text: tf.string tensor, shape (batch,).

        Returns:
            tf.RaggedTensor of tf.string tokens, shape (batch, None).
        """
        raise NotImplementedError

    def detokenize(self, tokens):
        """Args:
            tokens: tf.RaggedTensor of tf.string tokens, shape (batch, None).

        Returns:
            tf.string text, shape (batch,).
        """
        return tf.strings.reduce_join(tokens, axis=-1, separator=self.separator)

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("name", None)
        return cls(**config)


def tokenizer_from_config(config):
    """Rebuilds a tokenizer from `Tokenizer.get_config` output."""
    return TOKENIZERS.get(config["name"]).from_config(config)


def make_tokenizer(name):
    """Returns a fresh, untrained tokenizer registered as ``name``."""
    return TOKENIZERS.get(name)()
