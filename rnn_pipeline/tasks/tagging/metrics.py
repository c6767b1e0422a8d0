"""Tagging metrics: token accuracy (seen and unseen words), conlleval entity scores, and
the most-frequent-tag baseline every tagger must beat."""

import collections

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.tagging.schemes import count_inconsistent, entities


def _check_aligned(gold, predicted, tokens=None):
    if len(gold) != len(predicted):
        raise pipeline_error("predicted", f"must have one tag sequence per gold sequence "
                             f"({len(gold)})", len(predicted))
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted)):
        if len(gold_tags) != len(predicted_tags):
            raise pipeline_error(f"predicted[{index}]", f"must have one tag per gold tag "
                                 f"({len(gold_tags)})", len(predicted_tags))
        if tokens is not None and len(tokens[index]) != len(gold_tags):
            raise pipeline_error(f"tokens[{index}]", f"must have one token per gold tag "
                                 f"({len(gold_tags)})", len(tokens[index]))


def _ratio(part, whole):
    return part / whole if whole else None


def token_accuracy(gold, predicted, tokens=None, train_vocabulary=None):
    """The fraction of tokens tagged right, overall and for words seen or unseen in training.

    Args:
        gold: the gold tag sequences.
        predicted: the predicted tag sequences, aligned with ``gold``.
        tokens: the token sequences; needed with ``train_vocabulary``.
        train_vocabulary: the set of training words; a token is seen when it is in it.

    Returns:
        {"accuracy", "tokens"}, plus {"accuracy_seen", "accuracy_unseen", "tokens_seen",
        "tokens_unseen"} with a vocabulary. An accuracy over no tokens is None.
    """
    if train_vocabulary is not None and tokens is None:
        raise pipeline_error("tokens", "must be given with train_vocabulary", tokens)
    if tokens is not None and len(tokens) != len(gold):
        raise pipeline_error("tokens", f"must have one token sequence per gold sequence "
                             f"({len(gold)})", len(tokens))
    _check_aligned(gold, predicted, tokens)
    right = total = 0
    counts = {True: [0, 0], False: [0, 0]}  # seen -> [right, total]
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted)):
        for position, (g, p) in enumerate(zip(gold_tags, predicted_tags)):
            total += 1
            right += g == p
            if train_vocabulary is not None:
                count = counts[tokens[index][position] in train_vocabulary]
                count[0] += g == p
                count[1] += 1
    scores = {"accuracy": _ratio(right, total), "tokens": total}
    if train_vocabulary is not None:
        scores.update(accuracy_seen=_ratio(*counts[True]), tokens_seen=counts[True][1],
                      accuracy_unseen=_ratio(*counts[False]), tokens_unseen=counts[False][1])
    return scores


def _prf(correct, predicted, gold):
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def entity_scores(gold, predicted):
    """Entity precision, recall and F1 as conlleval computes them: an entity is right when
    its span and type are exactly the gold one's.

    Tags that break IOB2 (an ``I-X`` after ``O`` or another type) are read with conlleval's
    rules (the ``I-X`` starts a chunk) and counted, not refused.

    Args:
        gold: the gold tag sequences (IOB2; BIOES tags are read too).
        predicted: the predicted tag sequences, aligned with ``gold``.

    Returns:
        {"precision", "recall", "f1", "correct", "gold_entities", "predicted_entities",
        "per_type": {type: {"precision", "recall", "f1", "support"}},
        "inconsistent": {"gold": n, "predicted": n}}; scores are 0.0 with no entities.
        ``per_type`` holds every type in the gold or the predicted tags.
    """
    _check_aligned(gold, predicted)
    gold_chunks, predicted_chunks = set(), set()
    inconsistent = {"gold": 0, "predicted": 0}
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted)):
        gold_chunks.update((index, *chunk) for chunk in entities(gold_tags))
        predicted_chunks.update((index, *chunk) for chunk in entities(predicted_tags))
        inconsistent["gold"] += count_inconsistent(gold_tags)
        inconsistent["predicted"] += count_inconsistent(predicted_tags)
    correct_chunks = gold_chunks & predicted_chunks
    by_type = collections.defaultdict(lambda: [0, 0, 0])  # type -> [correct, predicted, gold]
    for position, chunks in enumerate((correct_chunks, predicted_chunks, gold_chunks)):
        for chunk in chunks:
            by_type[chunk[1]][position] += 1
    per_type = {kind: {**_prf(*by_type[kind]), "support": by_type[kind][2]}
                for kind in sorted(by_type)}
    return {**_prf(len(correct_chunks), len(predicted_chunks), len(gold_chunks)),
            "correct": len(correct_chunks), "gold_entities": len(gold_chunks),
            "predicted_entities": len(predicted_chunks), "per_type": per_type,
            "inconsistent": inconsistent}


class MostFrequentTagBaseline:
    """Tags each word with its most frequent training tag; an unseen word gets the most
    frequent tag overall. Ties go to the alphabetically first tag.

    Args:
        train_sentences: (tokens, tags) pairs, e.g. `TaggedSentence`s.
    """

    def __init__(self, train_sentences):
        by_word = collections.defaultdict(collections.Counter)
        overall = collections.Counter()
        for tokens, tags in train_sentences:
            for token, tag in zip(tokens, tags):
                by_word[token][tag] += 1
                overall[tag] += 1
        if not overall:
            raise pipeline_error("train_sentences", "must hold at least one tagged token", 0)
        self.tag_of = {word: _most_frequent(counts) for word, counts in by_word.items()}
        self.default_tag = _most_frequent(overall)

    def __call__(self, tokens):
        """The tags of one sentence's tokens."""
        return [self.tag_of.get(token, self.default_tag) for token in tokens]

    def predict(self, token_sequences):
        """The tags of many sentences."""
        return [self(tokens) for tokens in token_sequences]


def _most_frequent(counts):
    return min(counts, key=lambda tag: (-counts[tag], tag))


def most_frequent_tag_baseline(train_sentences):
    """A `MostFrequentTagBaseline` predictor fitted on ``train_sentences``.

    Args:
        train_sentences: (tokens, tags) pairs, e.g. `TaggedSentence`s.
    """
    return MostFrequentTagBaseline(train_sentences)
