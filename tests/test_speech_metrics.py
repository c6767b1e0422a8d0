"""Speech metrics: WER and CER against jiwer, accuracy, and the per-speaker scores."""

import pytest

from rnn_pipeline.tasks.speech.metrics import (accuracy, character_error_rate, edit_distance,
                                               speech_scores, word_error_rate)

PAIRS = [
    (["4 0 7"], ["4 0 7"]),
    (["4 0 7"], ["4 7"]),
    (["1 2 3 4 5", "9"], ["1 2 8 4 5 6", ""]),
    (["three two one", "zero"], ["three to one", "hero zero"]),
    (["seven"], ["eleven seventy"]),
]


@pytest.mark.parametrize("references, hypotheses", PAIRS)
def test_wer_and_cer_agree_with_jiwer(references, hypotheses):
    jiwer = pytest.importorskip("jiwer")
    assert word_error_rate(references, hypotheses) == pytest.approx(
        jiwer.wer(references, hypotheses))
    assert character_error_rate(references, hypotheses) == pytest.approx(
        jiwer.cer(references, hypotheses))


def test_edit_distance_accuracy_and_per_speaker_scores():
    assert edit_distance("kitten", "sitting") == 3 and edit_distance([], [1, 2]) == 2
    assert accuracy(["1", "2", "3", "4"], ["1", "2", "0", "4"]) == 0.75
    scores = speech_scores(["4 0", "1", "2"], ["4 0", "7", "2"], speakers=["b", "a", "a"])
    assert scores["accuracy"] == pytest.approx(2 / 3) and scores["count"] == 3
    assert scores["wer"] == pytest.approx(1 / 4)
    assert scores["per_speaker"] == {
        "a": {"accuracy": 0.5, "wer": 0.5, "cer": 0.5, "count": 2},
        "b": {"accuracy": 1.0, "wer": 0.0, "cer": 0.0, "count": 1}}
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        word_error_rate(["a", "b"], ["a"])
