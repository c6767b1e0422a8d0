"""Tagging data: CoNLL-U, CoNLL and span-JSON readers, tag schemes, conlleval metrics."""

import json

import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.tagging.metrics import (entity_scores, most_frequent_tag_baseline,
                                                token_accuracy)
from rnn_pipeline.tasks.tagging.readers import (read_conll, read_conllu, read_spans_json,
                                                read_tagged)
from rnn_pipeline.tasks.tagging.schemes import count_inconsistent, entities, to_iob2
from rnn_pipeline.tasks.tagging.sentences import TaggedSentence
from tests_support import unavailable


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(function, *args, **kwargs):
    with pytest.raises(PipelineError) as info:
        function(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def _row(*fields):
    return "\t".join(fields) + "\n"


CONLLU = (
    "# sent_id = a\n"
    + _row("1", "The", "the", "DET", "DT", "_", "2", "det", "_", "NER=O")
    + _row("2", "cat", "cat", "NOUN", "NN", "_", "0", "root", "_", "NER=B-ANIMAL")
    + _row("3-4", "don't", "_", "_", "_", "_", "_", "_", "_", "_")
    + _row("3", "do", "do", "AUX", "VBP", "_", "2", "aux", "_", "NER=O")
    + _row("4", "n't", "not", "PART", "RB", "_", "2", "advmod", "_", "NER=O")
    + _row("5", "go", "go", "VERB", "VB", "_", "2", "xcomp", "_", "NER=I-ANIMAL")
    + _row("5.1", "gone", "go", "VERB", "_", "_", "_", "_", "2:conj", "NER=O")
    + "\n# sent_id = b\n"
    + _row("1", "Hi", "hi", "INTJ", "_", "_", "0", "root", "_", "NER=O|SpaceAfter=No")
    + _row("2-3", "gonna", "_", "_", "_", "_", "_", "_", "_", "_")
    + _row("2", "gon", "go", "VERB", "VBG", "_", "1", "parataxis", "_", "NER=O")
    + _row("3", "na", "to", "PART", "TO", "_", "2", "mark", "_", "NER=O")
)


def test_conllu_columns_and_skipped_words(tmp_path):
    path = _write(tmp_path, "a.conllu", CONLLU)
    sentences, report = read_conllu(path)
    assert [s.tokens for s in sentences] == [["The", "cat", "do", "n't", "go"],
                                             ["Hi", "gon", "na"]]
    assert sentences[0].tags == ["DET", "NOUN", "AUX", "PART", "VERB"]
    assert (report.sentences, report.tokens) == (2, 8)
    assert (report.multiword_ranges_skipped, report.empty_nodes_skipped) == (2, 1)
    ner, ner_report = read_conllu(path, column="NER", scheme="iob2")
    assert ner[0].tags == ["O", "B-ANIMAL", "O", "O", "I-ANIMAL"]
    assert ner_report.inconsistent == 1  # I-ANIMAL after O, kept as read
    ner, _ = read_tagged(path, column="NER", scheme="iob1")
    assert ner[0].tags == ["O", "B-ANIMAL", "O", "O", "B-ANIMAL"]
    tokens, tags = read_tagged(path, column="upos")[0][1]
    assert (tokens, tags) == (["Hi", "gon", "na"], ["INTJ", "VERB", "PART"])


def test_conllu_missing_column_names_line_and_column(tmp_path):
    path = _write(tmp_path, "a.conllu", CONLLU)
    line = CONLLU.splitlines()[10]
    assert _error(read_conllu, path, column="xpos") == (
        f"{path}:11 must have a tag in the XPOS column ('_' is none). "
        f"Received: {path}:11={line!r}")
    assert _error(read_conllu, path, column="Gloss").startswith(
        f"{path}:2 must have Gloss=<tag> in the MISC column. Received: {path}:2=")
    sentences, _ = read_conllu(_write(tmp_path, "x.conllu", CONLLU.rsplit("\n#", 1)[0]),
                               column="xpos")
    assert sentences[0].tags == ["DT", "NN", "VBP", "RB", "VB"]


def test_conllu_malformed_line_is_one_error_naming_the_line(tmp_path):
    short = CONLLU.replace("NER=B-ANIMAL", "NER=B-ANIMAL\textra")
    path = _write(tmp_path, "a.conllu", short)
    assert _error(read_conllu, path).startswith(
        f"{path}:3 must be a CoNLL-U token line: 10 tab-separated, non-empty fields, no two "
        f"spaces in a row. Received: {path}:3='2\\tcat\\tcat")
    bad_id = _write(tmp_path, "b.conllu", CONLLU.replace("\n4\tn't", "\nx\tn't"))
    line = _row("x", "n't", "not", "PART", "RB", "_", "2", "advmod", "_", "NER=O").strip()
    assert _error(read_conllu, bad_id) == (
        f"{bad_id}:6 is not valid CoNLL-U: Failed parsing field 'id': 'x' is not a valid ID. "
        f"Received: {bad_id}:6={line!r}")
    assert _error(read_conllu, tmp_path / "missing.conllu").startswith(
        "path must be an existing file of tagged sentences.")


def test_conll_tabs_spaces_and_docstart(tmp_path):
    tabs = _write(tmp_path, "w.conll", "Empire\tB-location\nState\tI-location\n\t\n"
                                      "From\tO\nGreen\tB-person\n")
    sentences, report = read_conll(tabs)
    assert sentences == [TaggedSentence(["Empire", "State"], ["B-location", "I-location"]),
                         TaggedSentence(["From", "Green"], ["O", "B-person"])]
    spaces = _write(tmp_path, "c.txt", "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\n"
                                      "rejects VBZ B-VP O\n\n-DOCSTART- -X- -X- O\n\n"
                                      "Peter NNP B-NP B-PER\nBlackburn  NNP B-NP I-PER\n")
    sentences, report = read_tagged(spaces)
    assert [s.tags for s in sentences] == [["B-ORG", "O"], ["B-PER", "I-PER"]]
    assert sentences[1].tokens == ["Peter", "Blackburn"]
    assert (report.sentences, report.tokens, report.documents_skipped) == (2, 4, 2)


def test_conll_errors_name_the_line(tmp_path):
    path = _write(tmp_path, "c.conll", "a O\nlonely\n")
    assert _error(read_conll, path) == (
        f"{path}:2 must have a token first and a tag last, separated by tabs or spaces. "
        f"Received: {path}:2='lonely'")
    path = _write(tmp_path, "d.conll", "a O\n\nb PER\n")
    assert _error(read_conll, path) == (
        f"{path}:3 has tag 'PER', which must be 'O' or B-TYPE, I-TYPE (scheme 'iob2'). "
        f"Received: {path}:3='b PER'")
    assert _error(read_conll, _write(tmp_path, "e.conll", "a B-X\n"), scheme="io").startswith(
        f"{tmp_path / 'e.conll'}:1 has tag 'B-X', which must be 'O' or I-TYPE (scheme 'io').")
    assert _error(read_conll, path, scheme="bilou") == (
        "tagging.scheme must be one of: 'bioes', 'io', 'iob1', 'iob2'. "
        "Received: tagging.scheme='bilou'")
    assert _error(read_tagged, path, format="csv") == (
        "data.format must be one of: 'auto', 'conll', 'conllu', 'spans_json'. "
        "Received: data.format='csv'")


@pytest.mark.parametrize("scheme, tags, expected", [
    ("iob1", ["I-PER", "I-PER", "B-PER"], ["B-PER", "I-PER", "B-PER"]),
    ("iob1", ["I-PER", "I-LOC", "O", "I-LOC"], ["B-PER", "B-LOC", "O", "B-LOC"]),
    ("bioes", ["S-LOC", "B-PER", "E-PER", "O"], ["B-LOC", "B-PER", "I-PER", "O"]),
    ("bioes", ["B-PER", "I-PER", "E-PER", "S-PER"], ["B-PER", "I-PER", "I-PER", "B-PER"]),
    ("iobes", ["E-PER", "S-PER", "I-PER"], ["B-PER", "B-PER", "B-PER"]),
    ("io", ["I-PER", "I-PER", "O", "I-LOC"], ["B-PER", "I-PER", "O", "B-LOC"]),
    ("iob2", ["O", "I-PER", "B-PER"], ["O", "I-PER", "B-PER"]),
])
def test_schemes_convert_to_iob2(tmp_path, scheme, tags, expected):
    assert to_iob2(tags, scheme) == expected
    path = _write(tmp_path, "s.conll", "".join(f"w{i} {t}\n" for i, t in enumerate(tags)))
    sentences, report = read_conll(path, scheme=scheme)
    assert sentences[0].tags == expected
    assert report.tags_converted == sum(a != b for a, b in zip(tags, expected))


def test_conlleval_chunks_and_inconsistencies():
    tags = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "B-creative-work"]
    assert entities(tags) == [("PER", 0, 2), ("PER", 2, 3), ("LOC", 4, 5), ("ORG", 5, 6),
                              ("creative-work", 6, 7)]
    assert count_inconsistent(tags) == 3  # I-PER first, I-LOC after O, I-ORG after I-LOC
    assert count_inconsistent(["B-X", "I-X", "O"]) == 0
    assert entities(["B-X", "E-X", "I-X", "S-Y"]) == [("X", 0, 2), ("X", 2, 3), ("Y", 3, 4)]
    assert _error(entities, ["PER"]).endswith("Received: tag='PER'")


def test_spans_json_to_character_tags(tmp_path):
    items = [{"text": "東京の山田", "entities": [
        {"name": "東京", "span": [0, 2], "type": "地名"},
        {"name": "山田", "span": [3, 5], "type": "人名"},
        {"name": "京の", "span": [1, 3], "type": "地名"},     # overlaps the first
        {"name": "田?", "span": [4, 9], "type": "人名"}]},    # out of range
        {"text": "a b", "entities": []}]
    path = _write(tmp_path, "ner.json", json.dumps(items, ensure_ascii=False))
    sentences, report = read_tagged(path)
    assert sentences[0].tokens == ["東", "京", "の", "山", "田"]
    assert sentences[0].tags == ["B-地名", "I-地名", "O", "B-人名", "I-人名"]
    assert sentences[1] == TaggedSentence(["a", " ", "b"], ["O", "O", "O"])
    assert (report.spans, report.spans_skipped, report.tokens) == (4, 2, 8)
    bad = _write(tmp_path, "bad.json", '[{"text": "x", "entities": [{"span": [0]}]}]')
    assert _error(read_spans_json, bad).startswith(
        f"{bad}[0].entities[0] must be an object with 'span': [start, end] (integers) and a "
        f"non-empty 'type'.")
    broken = _write(tmp_path, "broken.json", '[\n{"text": }\n]')
    assert _error(read_spans_json, broken).startswith(f"{broken}:2 must be valid JSON")
    assert _error(read_spans_json, path, tokenizer="mecab") == (
        "tokenizer must be one of: 'character'. Received: tokenizer='mecab'")


@pytest.mark.filterwarnings("ignore")  # seqeval warns about types never predicted
def test_entity_scores_equal_seqeval():
    metrics = pytest.importorskip("seqeval.metrics")
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "I-ORG", "I-ORG", "O", "B-PER"],
            ["B-LOC", "I-LOC", "I-LOC", "O"], ["O", "O"], ["B-MISC", "O", "B-PER", "I-PER"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["O", "B-ORG", "I-ORG", "O", "I-PER"],
                 ["B-LOC", "I-LOC", "O", "O"], ["I-LOC", "O"], ["I-MISC", "O", "B-PER", "B-PER"]]
    scores = entity_scores(gold, predicted)
    assert scores["precision"] == pytest.approx(metrics.precision_score(gold, predicted))
    assert scores["recall"] == pytest.approx(metrics.recall_score(gold, predicted))
    assert scores["f1"] == pytest.approx(metrics.f1_score(gold, predicted))
    report = metrics.classification_report(gold, predicted, output_dict=True)
    assert set(scores["per_type"]) == {k for k in report if not k.endswith(" avg")}
    for kind, figures in scores["per_type"].items():
        for ours, theirs in (("precision", "precision"), ("recall", "recall"),
                             ("f1", "f1-score"), ("support", "support")):
            assert figures[ours] == pytest.approx(report[kind][theirs]), (kind, ours)
    # gold 7 entities, predicted 9 (I- starts a chunk: ORG 1-3 and PER 4-5 in the second
    # sentence, LOC 0-1 and MISC 0-1 after it); right: PER, ORG, PER, MISC
    assert (scores["correct"], scores["gold_entities"], scores["predicted_entities"]) == (
        4, 7, 9)
    assert scores["inconsistent"] == {"gold": 1, "predicted": 3}
    nothing = entity_scores([["O"]], [["O"]])
    assert (nothing["precision"], nothing["recall"], nothing["f1"]) == (0.0, 0.0, 0.0)
    assert _error(entity_scores, [["O"]], [["O", "O"]]).startswith(
        "predicted[0] must have one tag per gold tag (1).")


def test_token_accuracy_seen_and_unseen():
    gold = [["A", "B", "C"], ["A"]]
    predicted = [["A", "X", "C"], ["B"]]
    tokens = [["the", "cat", "zebra"], ["the"]]
    assert token_accuracy(gold, predicted) == {"accuracy": 0.5, "tokens": 4}
    scores = token_accuracy(gold, predicted, tokens, train_vocabulary={"the", "cat"})
    assert scores == {"accuracy": 0.5, "tokens": 4, "accuracy_seen": pytest.approx(1 / 3),
                      "tokens_seen": 3, "accuracy_unseen": 1.0, "tokens_unseen": 1}
    assert token_accuracy(gold, predicted, tokens, set())["accuracy_seen"] is None
    assert _error(token_accuracy, gold, predicted, train_vocabulary={"the"}).startswith(
        "tokens must be given with train_vocabulary.")


def test_most_frequent_tag_baseline():
    train = [TaggedSentence(["the", "dog", "runs"], ["DET", "NOUN", "VERB"]),
             TaggedSentence(["the", "runs"], ["DET", "NOUN"]),
             (["dog", "cat"], ["VERB", "NOUN"])]
    predict = most_frequent_tag_baseline(train)
    # dog and runs: one NOUN, one VERB each, a tie that goes to NOUN; NOUN is most frequent
    assert predict(["the", "dog", "runs", "zebra"]) == ["DET", "NOUN", "NOUN", "NOUN"]
    assert predict.predict([["cat"], []]) == [["NOUN"], []]
    tied = most_frequent_tag_baseline([(["a", "b"], ["Y", "X"])])
    assert tied(["c"]) == ["X"]


def _mirror_file(data_mirror, relative):
    path = data_mirror / "tagging" / relative
    if not path.is_file():
        unavailable(f"needs {path} in the data mirror")
    return path


def test_wnut17_dev_reads(data_mirror):
    path = _mirror_file(data_mirror, "wnut17/emerging.dev.conll")
    sentences, report = read_tagged(path)
    assert (report.sentences, report.tokens, report.inconsistent) == (1009, 15733, 0)
    tags = {tag for sentence in sentences for tag in sentence.tags}
    assert len(tags) == 13 and "B-creative-work" in tags
    assert sentences[0].tokens[:3] == ["Stabilized", "approach", "or"]


def test_ud_ewt_dev_reads(data_mirror):
    path = _mirror_file(data_mirror, "ud_english_ewt/en_ewt-ud-dev.conllu")
    lines = path.read_text(encoding="utf-8").splitlines()
    sent_ids = sum(line.startswith("# sent_id") for line in lines)
    words = sum(line.split("\t", 1)[0].isdigit() for line in lines)
    sentences, report = read_conllu(path)
    assert report.sentences == sent_ids == len(sentences)
    assert report.tokens == words
    assert sentences[0] == TaggedSentence(
        ["From", "the", "AP", "comes", "this", "story", ":"],
        ["ADP", "DET", "PROPN", "VERB", "DET", "NOUN", "PUNCT"])
    assert len({tag for sentence in sentences for tag in sentence.tags}) == 17


def test_ja_ner_wikipedia_reads(data_mirror):
    path = _mirror_file(data_mirror, "ja_ner_wikipedia/ner.json")
    sentences, report = read_tagged(path)
    assert report.sentences == len(json.loads(path.read_text(encoding="utf-8")))
    assert report.spans_skipped == 0
    assert "".join(sentences[0].tokens[:7]) == "SPRiNGS"
    assert sentences[0].tags[:8] == ["B-その他の組織名"] + ["I-その他の組織名"] * 6 + ["O"]


def test_confusion_counts_rows_are_gold_columns_predicted():
    from rnn_pipeline.runs.confusion import confusion_counts

    gold = [["DET", "NOUN", "VERB"], ["NOUN"]]
    predicted = [["DET", "VERB", "VERB"], ["NOUN"]]
    counts = confusion_counts(gold, predicted, ["DET", "NOUN", "VERB"])
    assert counts.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_japanese_entity_types_are_drawn_with_every_glyph(tmp_path):
    import warnings

    from rnn_pipeline.runs.confusion import plot_entity_f1

    scores = {"f1": 0.5, "per_type": {"人名": {"f1": 0.7, "support": 3},
                                      "地名": {"f1": 0.2, "support": 1}}}
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing")
        plot_entity_f1(scores, scores, tmp_path / "f1.png", "ja: test entity F1")
    assert (tmp_path / "f1.png").read_bytes()[:4] == b"\x89PNG"
