"""Speech metrics: accuracy, word and character error rates (corpus level, as jiwer), and
the same per speaker.

WER = (substitutions + deletions + insertions) / reference words, summed over the corpus
before dividing; CER the same over characters (spaces included), as ``jiwer.wer`` and
``jiwer.cer`` compute them.
"""

from collections import defaultdict


def edit_distance(reference, hypothesis):
    """Levenshtein distance between two sequences (unit costs)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def _error_rate(references, hypotheses, split):
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    errors = total = 0
    for reference, hypothesis in zip(references, hypotheses):
        reference, hypothesis = split(reference), split(hypothesis)
        errors += edit_distance(reference, hypothesis)
        total += len(reference)
    if total == 0:
        raise ValueError("the references are empty")
    return errors / total


def _characters(text):
    return list(" ".join(text.split()))


def word_error_rate(references, hypotheses):
    """Corpus WER of transcripts (words split on whitespace)."""
    return _error_rate(references, hypotheses, str.split)


def character_error_rate(references, hypotheses):
    """Corpus CER of transcripts (runs of whitespace count as one space)."""
    return _error_rate(references, hypotheses, _characters)


def accuracy(references, predictions):
    """The share of exact matches (labels, or whole transcripts)."""
    if len(references) != len(predictions) or not references:
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
    return sum(r == p for r, p in zip(references, predictions)) / len(references)


def speech_scores(references, hypotheses, speakers=None):
    """Accuracy, WER and CER, overall and per speaker (the content of one split's entry in
    ``speech_metrics.json``).

    Args:
        references, hypotheses: labels or transcripts (strings), one per utterance.
        speakers: the speaker of each utterance, or None.

    Returns:
        {"accuracy", "wer", "cer", "count", ["per_speaker": {speaker: {...}}]}.
    """
    def scores(refs, hyps):
        return {"accuracy": accuracy(refs, hyps), "wer": word_error_rate(refs, hyps),
                "cer": character_error_rate(refs, hyps), "count": len(refs)}

    out = scores(references, hypotheses)
    if speakers is not None:
        groups = defaultdict(lambda: ([], []))
        for ref, hyp, speaker in zip(references, hypotheses, speakers, strict=True):
            groups[speaker][0].append(ref)
            groups[speaker][1].append(hyp)
        out["per_speaker"] = {str(s): scores(*groups[s]) for s in sorted(groups, key=str)}
    return out
