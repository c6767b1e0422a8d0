"""A vocabulary as a SavedModel asset (one token per line) and the lookup tables read
from it in the serving graph; shared by every text task's serving module."""

import tensorflow as tf

from rnn_pipeline.data.vocabulary import UNK
from rnn_pipeline.errors import pipeline_error


def vocabulary_tables(path):
    """(token -> id, id -> token) tables initialised from a one-token-per-line file."""
    whole_line, line_number = (tf.lookup.TextFileIndex.WHOLE_LINE,
                               tf.lookup.TextFileIndex.LINE_NUMBER)
    token_ids = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
        path, tf.string, whole_line, tf.int64, line_number), default_value=0)  # 0 is <unk>
    id_tokens = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
        path, tf.int64, line_number, tf.string, whole_line), default_value=UNK)
    return token_ids, id_tokens


def write_vocabulary(vocabulary, path):
    """Writes the asset file; a token that a line-based table cannot hold is an error."""
    for token in vocabulary:
        if token == "" or "\n" in token or "\r" in token:
            raise pipeline_error("vocabulary", "must have one non-empty token per line to "
                                 "become a SavedModel asset", token)
    path.write_text("".join(token + "\n" for token in vocabulary), encoding="utf-8")
