"""Tokenizers that need no training: whitespace words, characters, Unicode scripts."""

import tensorflow as tf
import tensorflow_text as tf_text

from rnn_pipeline.tokenizers.base import TOKENIZERS, Tokenizer


# What Python's ``str.split()`` splits on, as an RE2 class: ASCII whitespace, \x0b,
# \x1c-\x1f, NEL and the Unicode separators (Zs, Zl, Zp: no-break and ideographic spaces).
UNICODE_WHITESPACE = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]+"


def split_on_whitespace(text):
    """Words of each string, split as Python's ``str.split()`` splits: (batch, None) string.

    tensorflow-text's ``WhitespaceTokenizer`` (2.21.1) cuts a multi-byte space such as
    U+3000 mid-character ("said\u3000no" -> ``b"said\xe3\x80"``), so whitespace is first
    made one ASCII space here.
    """
    return tf.strings.split(tf.strings.regex_replace(text, UNICODE_WHITESPACE, " "))


@TOKENIZERS.register("whitespace")
class WhitespaceTokenizer(Tokenizer):
    """Words separated by Unicode whitespace (`split_on_whitespace`)."""

    name = "whitespace"

    def tokenize(self, text):
        return split_on_whitespace(text)  # (batch, None) string


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
