"""Nearest neighbours of a word by cosine similarity."""

import difflib

import numpy as np

from rnn_pipeline.errors import pipeline_error


def nearest(words, matrix, word, k=10, lowercase=False):
    """The ``k`` words whose vectors are closest to ``word``'s (cosine), itself excluded.

    Args:
        words: words in row order.
        matrix: (len(words), dim) vectors.
        word: the query word.
        k: how many neighbours.
        lowercase: fall back to the lower-case form of ``word``.

    Returns:
        [(word, cosine similarity)], most similar first.
    """
    index = {w: i for i, w in reversed(list(enumerate(words)))}
    if word not in index and lowercase and word.lower() in index:
        word = word.lower()
    if word not in index:
        close = difflib.get_close_matches(word, list(index), n=3)
        hint = f"; close words: {', '.join(close)}" if close else ""
        raise pipeline_error("WORD", f"must be a word with a vector ({len(words):,} words)"
                             f"{hint}", word)
    matrix = np.asarray(matrix, np.float64)
    norms = np.linalg.norm(matrix, axis=1)
    query = matrix[index[word]]
    similarity = matrix @ query / np.maximum(norms * np.linalg.norm(query), 1e-12)
    similarity[index[word]] = -np.inf
    best = np.argsort(-similarity, kind="stable")[:k]
    return [(words[i], float(similarity[i])) for i in best]
