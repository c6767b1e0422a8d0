"""Detokenizers (one registry): word tokens joined by spaces -> text as a language writes it.

A word-level model writes "¿ Puedes hablar francés ?"; Spanish writes "¿Puedes hablar
francés?". The rules run as TensorFlow string ops, so a translation export returns the
same text as `rnn-pipeline translate`.
"""

import tensorflow as tf

from rnn_pipeline.registry import Registry

DETOKENIZERS = Registry("detokenizer")

# Punctuation written against the word before it, or against the word after it.
_CLOSING = r".,!?;:%)\]}»”’…"
_OPENING = r"¿¡(\[{«“‘„"
# Scripts written without spaces between words (and their punctuation).
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}ー\x{3000}-\x{303F}\x{FF00}-\x{FFEF}"
UNSEGMENTED_LANGUAGES = ("ja", "zh", "th")


@DETOKENIZERS.register("spaced")
def spaced(text):
    """Languages that put spaces between words: no space before closing punctuation or
    after opening punctuation, none around an apostrophe inside a word ("don ' t").

    Args:
        text: tf.string tensor of any shape.
    """
    text = tf.strings.regex_replace(text, f" ([{_CLOSING}])", r"\1")
    text = tf.strings.regex_replace(text, f"([{_OPENING}]) ", r"\1")
    text = tf.strings.regex_replace(text, r"(\w) ' (\w)", r"\1'\2")
    return tf.strings.strip(text)


@DETOKENIZERS.register("unspaced")
def unspaced(text):
    """Japanese, Chinese, Thai: no space next to a character of those scripts; the
    `spaced` rules for the Latin words among them."""
    text = tf.strings.regex_replace(text, f"([{_UNSPACED}]) ", r"\1")
    text = tf.strings.regex_replace(text, f" ([{_UNSPACED}])", r"\1")
    return spaced(text)


def detokenizer_for(language):
    """The detokenizer of an ISO 639-1 ``language`` code ("ja" -> `unspaced`, else
    `spaced`)."""
    return DETOKENIZERS.get("unspaced" if language in UNSEGMENTED_LANGUAGES else "spaced")
