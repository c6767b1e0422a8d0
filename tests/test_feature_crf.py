"""The feature-CRF baseline: its features, and (with the bench extra) a fit that learns."""

import pytest

from rnn_pipeline.tasks.tagging.feature_crf import FeatureCRF, sentence_features, word_shape
from rnn_pipeline.tasks.tagging.sentences import TaggedSentence


def test_word_shape_collapses_runs():
    assert word_shape("McDonald's") == "XxXx'x"
    assert word_shape("1984") == "d"
    assert word_shape("U.S.") == "X.X."


def test_features_of_words_and_neighbours():
    features = sentence_features(["Peter", "runs"], window=1)
    first, second = features
    assert first["lower"] == "peter" and first["title"] and first["suffix3"] == "ter"
    assert first["-1:BOS"] and first["+1:lower"] == "runs"
    assert second["-1:shape"] == "Xx" and second["+1:EOS"]
    assert "-2:BOS" not in first  # window 1


def test_japanese_characters_get_their_script():
    features = sentence_features(list("東京タワーへ"), window=1)
    assert [f["script"] for f in features] == ["kanji", "kanji", "katakana", "katakana",
                                               "katakana", "hiragana"]


def test_fit_learns_a_tag_from_its_features():
    pytest.importorskip("sklearn_crfsuite")
    names = ["Anna", "Bert", "Carl", "Dora"]
    train = [TaggedSentence([name, "runs", "home"], ["B-PER", "O", "O"]) for name in names]
    train += [TaggedSentence(["we", "saw", name], ["O", "O", "B-PER"]) for name in names]
    crf = FeatureCRF(c1=0.0, c2=0.01, max_iterations=50).fit(train)
    # An unseen capitalised name after "saw": shape and context carry the tag.
    assert crf.predict([["we", "saw", "Emil"], ["Emil", "runs", "home"]]) == [
        ["O", "O", "B-PER"], ["B-PER", "O", "O"]]
