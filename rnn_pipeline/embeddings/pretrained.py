"""Pretrained vectors into an embedding matrix: matching, initialisation of missing words,
and the coverage report."""

import json
from dataclasses import asdict, dataclass

import numpy as np

from rnn_pipeline import choices
from rnn_pipeline.errors import pipeline_error

MISSING_INITS = choices.MISSING_INITS


@MISSING_INITS.register("random")
def keep_random(initial, vectors, rng):
    """The model's own random initialisation."""
    return initial


@MISSING_INITS.register("scaled")
def scaled_normal(initial, vectors, rng):
    """Normal draws with the pretrained vectors' mean and standard deviation."""
    return rng.normal(vectors.mean(), vectors.std(), size=initial.shape).astype(np.float32)


@MISSING_INITS.register("zeros")
def zeros(initial, vectors, rng):
    """All zeros."""
    return np.zeros_like(initial)


@dataclass
class Coverage:
    """How much of the vocabulary the vectors cover.

    Args:
        vocabulary_types: words in the vocabulary.
        found_types: of them, words with a pretrained vector.
        training_tokens: tokens of the training split.
        found_tokens: of them, tokens whose word has a pretrained vector.
        lowercase_matches: words found only through lower-case matching.
        top_missing: the most frequent missing words, as [word, training count] pairs.
    """

    vocabulary_types: int
    found_types: int
    training_tokens: int
    found_tokens: int
    lowercase_matches: int
    top_missing: list

    @property
    def type_share(self):
        return self.found_types / self.vocabulary_types

    @property
    def token_share(self):
        return self.found_tokens / max(self.training_tokens, 1)

    def lines(self, source):
        """The printed report."""
        missing = ", ".join(f"{w} ({n:,})" for w, n in self.top_missing[:10]) or "none"
        return [f"Pretrained vectors {source}: {self.found_types:,} of "
                f"{self.vocabulary_types:,} vocabulary words ({self.type_share:.1%}), "
                f"{self.token_share:.1%} of training tokens"
                + (f"; {self.lowercase_matches:,} matched in lower case"
                   if self.lowercase_matches else ""),
                f"Most frequent missing words: {missing}"]

    def save(self, path, source):
        payload = {"source": source, **asdict(self), "type_share": self.type_share,
                   "token_share": self.token_share}
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")


def match_rows(itos, vectors, lowercase):
    """For every vocabulary word, the row of its vector in ``vectors`` or -1.

    Returns:
        (rows, number of words matched only in lower case).
    """
    lowered = {}
    if lowercase:
        for i, word in enumerate(vectors.words):
            lowered.setdefault(word.lower(), i)
    rows, late = np.full(len(itos), -1, np.int64), 0
    for token_id, word in enumerate(itos):
        if word in vectors.index:
            rows[token_id] = vectors.index[word]
        elif lowercase and word.lower() in lowered:
            rows[token_id] = lowered[word.lower()]
            late += 1
    return rows, late


def pretrained_matrix(itos, vectors, initial, train_stream, missing="random",
                      lowercase=False, seed=0, top=20):
    """The embedding matrix: pretrained rows where a word has a vector, ``missing`` rows
    elsewhere.

    Args:
        itos: vocabulary words in id order.
        vectors: a `WordVectors` with ``dim == initial.shape[1]``.
        initial: (vocabulary, dim) the model's freshly initialised matrix.
        train_stream: token ids of the training split (for token coverage).
        missing: "random" (keep ``initial``), "scaled" or "zeros".
        lowercase: also match a word to the vector of its lower-case form.
        seed: seed of the "scaled" draws.
        top: how many missing words to list.

    Returns:
        ((vocabulary, dim) float32 matrix, `Coverage`).
    """
    init_missing = MISSING_INITS.get(missing)
    if vectors.dim != initial.shape[1]:
        raise pipeline_error("embeddings.file", f"must hold vectors of model.embedding_dim = "
                             f"{initial.shape[1]} numbers; it holds {vectors.dim}",
                             vectors.source)
    rows, late = match_rows(itos, vectors, lowercase)
    found = rows >= 0
    if not found.any():
        raise pipeline_error("embeddings.file", f"must share words with the vocabulary; none "
                             f"of its {len(vectors):,} words is among the {len(itos):,} "
                             f"vocabulary words (check the tokenizer and "
                             f"embeddings.lowercase)", vectors.source)
    matrix = init_missing(np.asarray(initial, np.float32), vectors.matrix,
                          np.random.default_rng(seed)).copy()
    matrix[found] = vectors.matrix[rows[found]]
    counts = np.bincount(np.asarray(train_stream), minlength=len(itos))
    order = np.argsort(-counts, kind="stable")
    top_missing = [[itos[i], int(counts[i])] for i in order if not found[i]][:top]
    coverage = Coverage(len(itos), int(found.sum()), int(counts.sum()),
                        int(counts[found].sum()), late, top_missing)
    return matrix, coverage
