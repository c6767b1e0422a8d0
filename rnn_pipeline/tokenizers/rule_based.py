"""Tokenizers that need no training: whitespace words, characters, Unicode scripts."""

import tensorflow as tf
import tensorflow_text as tf_text

from rnn_pipeline.tokenizers.base import TOKENIZERS, Tokenizer


@TOKENIZERS.register("whitespace")
class WhitespaceTokenizer(Tokenizer):
    """Words separated by Unicode whitespace (tensorflow-text ``WhitespaceTokenizer``)."""

    name = "whitespace"

    def __init__(self):
        self._tokenizer = tf_text.WhitespaceTokenizer()

    def tokenize(self, text):
        return self._tokenizer.tokenize(text)  # (batch, None) string


@TOKENIZERS.register("character")
class CharacterTokenizer(Tokenizer):
    """One token per Unicode character; spaces are tokens too."""

    name = "character"
    separator = ""

    def tokenize(self, text):
        return tf.strings.unicode_split(text, "UTF-8")  # (batch, None) string


@TOKENIZERS.register("unicode_script")
class UnicodeScriptTokenizer(Tokenizer):
    """Splits where the Unicode script changes and at whitespace
    (tensorflow-text ``UnicodeScriptTokenizer``): "abc漢字" -> ["abc", "漢字"]."""

    name = "unicode_script"

    def __init__(self):
        self._tokenizer = tf_text.UnicodeScriptTokenizer()

    def tokenize(self, text):
        return self._tokenizer.tokenize(text)  # (batch, None) string
