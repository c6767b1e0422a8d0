"""Sentence-pair data: reading (exact errors), splitting by source, length filters."""

import re

import pytest

from rnn_pipeline.tasks.translation.pairs import filter_by_length, read_pairs, split_by_source
from rnn_pipeline.datasets import DATASETS
from rnn_pipeline.errors import PipelineError


def _write(tmp_path, content, name="pairs.txt"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _error(path, **kwargs):
    with pytest.raises(PipelineError) as info:
        read_pairs(path, **kwargs)
    return str(info.value)


def test_reads_pairs_and_drops_extra_columns(tmp_path):
    path = _write(tmp_path, "Go.\t行け。\tCC-BY 2.0 (France) #1 & #2\r\nHi.\tこんにちは。\n"
                            "a\tb\tc\td\n")
    assert read_pairs(path) == [("Go.", "行け。"), ("Hi.", "こんにちは。"), ("a", "b")]
    assert read_pairs(_write(tmp_path, "x\ty", "no_final_newline.txt")) == [("x", "y")]


def test_line_without_tab_names_file_and_line(tmp_path):
    path = _write(tmp_path, "Go.\t行け。\nno tab here\n")
    assert _error(path) == (f"{path}:2 must be 'source<TAB>target'. "
                            f"Received: {path}:2='no tab here'")
    long = _write(tmp_path, "a\tb\n" + "x" * 100 + "\n", "long.txt")
    assert _error(long) == (f"{long}:2 must be 'source<TAB>target'. "
                            f"Received: {long}:2='{'x' * 57}...'")


def test_blank_line_inside_the_file_is_an_error(tmp_path):
    path = _write(tmp_path, "a\tb\n\nc\td\n")
    assert _error(path) == f"{path}:2 must be 'source<TAB>target'. Received: {path}:2=''"
    twice = _write(tmp_path, "a\tb\n\n", "twice.txt")
    assert _error(twice).startswith(f"{twice}:2 must be 'source<TAB>target'.")


def test_empty_side_says_which(tmp_path):
    path = _write(tmp_path, "a\tb\n \tb\n")
    assert _error(path) == (f"{path}:2 must have a non-empty source (before the first tab). "
                            f"Received: {path}:2=' \\tb'")
    path = _write(tmp_path, "a\tb\nc\t\tattribution\n", "target.txt")
    assert _error(path) == (f"{path}:2 must have a non-empty target (after the first tab). "
                            f"Received: {path}:2='c\\t\\tattribution'")


def test_undecodable_bytes_name_line_and_encoding(tmp_path):
    path = _write(tmp_path, "Go.\t行け。\n".encode("utf-8") + "猫\tcat\n".encode("shift_jis"))
    assert _error(path) == (
        f"{path}:2 cannot be decoded as 'utf-8' (bytes b'\\x94' at byte offset 14). "
        f"Received: {path}:2=b'\\x94L\\tcat'")
    sjis = _write(tmp_path, "猫\tcat\n犬\tdog\n".encode("shift_jis"), "sjis.txt")
    assert _error(sjis) == (
        f"{sjis}:1 cannot be decoded as 'utf-8' (bytes b'\\x94' at byte offset 0); the file "
        f"decodes as 'shift_jis': pass encoding='shift_jis'. Received: {sjis}:1=b'\\x94L\\tcat'")
    assert read_pairs(sjis, encoding="shift_jis") == [("猫", "cat"), ("犬", "dog")]


def test_missing_and_empty_files(tmp_path):
    missing = tmp_path / "missing.txt"
    assert _error(missing) == (f"path must be an existing file of sentence pairs. "
                               f"Received: path={str(missing)!r}")
    for content in ("", "\n"):
        empty = _write(tmp_path, content, "empty.txt")
        message = _error(empty)
        if content:
            assert message.startswith(f"{empty}:1 must be 'source<TAB>target'")
        else:
            assert message == (f"path must hold at least one 'source<TAB>target' line. "
                               f"Received: path={str(empty)!r}")


PAIRS = [("I run.", "走る。"), ("I run.", "走ります。"), ("I run.", "私は走る。"),
         ("Go.", "行け。"), ("Hi.", "やあ。"), ("Stop.", "止まれ。"), ("Wait.", "待って。"),
         ("Help!", "助けて！"), ("Come.", "来て。"), ("Run.", "走れ。"), ("Sit.", "座れ。"),
         ("Eat.", "食べて。")]


def test_split_is_deterministic_and_keeps_sources_apart():
    first = split_by_source(PAIRS, 0.2, 0.2, seed=0)
    assert first == split_by_source(PAIRS, 0.2, 0.2, seed=0)
    reordered = split_by_source(PAIRS[::-1], 0.2, 0.2, seed=0)  # same groups, same splits
    assert {k: sorted(v) for k, v in reordered.items()} == {k: sorted(v) for k, v in first.items()}
    others = [split_by_source(PAIRS, 0.2, 0.2, seed=s) for s in range(1, 6)]
    assert any(other != first for other in others)
    for split in [first] + others:
        assert sorted(p for pairs in split.values() for p in pairs) == sorted(PAIRS)
        sources = [{source for source, _ in split[name]} for name in ("train", "valid", "test")]
        assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
        for pairs in split.values():  # the 3 translations of "I run." are adjacent
            runs = [i for i, (source, _) in enumerate(pairs) if source == "I run."]
            if runs:
                assert runs == [runs[0], runs[0] + 1, runs[0] + 2]


def test_sources_equal_up_to_case_and_punctuation_share_a_split():
    variants = ["Go.", "go!", "GO", " Go ?", "Ｇｏ．"]  # the last one is full-width (NFKC)
    pairs = [(v, f"target {i}") for i, v in enumerate(variants)] + \
        [(f"other sentence {i}", f"t {i}") for i in range(40)]
    for seed in range(5):
        split = split_by_source(pairs, 0.2, 0.2, seed=seed)
        homes = {name for name, chunk in split.items() for source, _ in chunk
                 if source in variants}
        assert len(homes) == 1, (seed, homes)
        (home,) = homes
        assert [s for s, _ in split[home] if s in variants] == variants  # adjacent, in order


def test_split_fractions_are_of_distinct_sources():
    pairs = [(f"source {i}", f"target {i}.{j}") for i in range(100) for j in range(i % 3 + 1)]
    split = split_by_source(pairs, 0.1, 0.25, seed=7)
    counts = {name: len({s for s, _ in split[name]}) for name in split}
    assert counts == {"train": 65, "valid": 10, "test": 25}
    assert split_by_source(pairs, 0.0, 0.0, seed=7)["train"] != pairs  # shuffled


@pytest.mark.parametrize("valid, test, message", [
    (-0.1, 0.1, "pairs.valid_fraction must be a number in [0, 1). "
                "Received: pairs.valid_fraction=-0.1"),
    (0.1, 1.0, "pairs.test_fraction must be a number in [0, 1). Received: pairs.test_fraction=1.0"),
    (0.5, 0.5, "pairs.valid_fraction + pairs.test_fraction must be less than 1. "
               "Received: pairs.valid_fraction + pairs.test_fraction=1.0"),
    (0.4, 0.4, "pairs must have more distinct sources than valid and test take (1 + 1 with "
               "valid_fraction=0.4, test_fraction=0.4). Received: pairs='2 distinct sources'"),
])
def test_split_validates_fractions(valid, test, message):
    with pytest.raises(PipelineError, match=f"^{re.escape(message)}$"):
        split_by_source([("a", "1"), ("b", "2")], valid, test, seed=0)


def test_filter_by_length_counts_dropped():
    pairs = [("one", "abc"), ("one two", "abcdef"), ("one two three", "ab"), ("a  b", "x")]
    assert filter_by_length(pairs) == (pairs, 0)
    assert filter_by_length(pairs, max_source_words=2) == (
        [("one", "abc"), ("one two", "abcdef"), ("a  b", "x")], 1)
    assert filter_by_length(pairs, max_target_chars=3) == (
        [("one", "abc"), ("one two three", "ab"), ("a  b", "x")], 1)
    assert filter_by_length(pairs, 2, 3) == ([("one", "abc"), ("a  b", "x")], 2)
    for key, kwargs in (("data.max_source_words", {"max_source_words": 0}),
                        ("data.max_target_chars", {"max_target_chars": 0})):
        with pytest.raises(PipelineError, match=rf"^{key} must be None or an integer of at "
                                                rf"least 1\. Received: {key}=0$"):
            filter_by_length(pairs, **kwargs)


def test_real_tatoeba_jpn_eng(dataset):
    spec = DATASETS.get("tatoeba_jpn_eng")
    assert spec.kind == "pairs" and set(spec.files) == {"pairs", "about"}
    paths = dataset("tatoeba_jpn_eng")
    pairs = read_pairs(paths["pairs"], spec.encoding)
    assert len(pairs) == 87609
    assert pairs[0] == ("Go.", "行け。")
    assert "Attribution: www.manythings.org/anki and tatoeba.org" in \
        paths["about"].read_text(encoding="utf-8")


def test_detokenized_translations_match_normally_written_references_under_13a():
    import tensorflow as tf

    from rnn_pipeline.generation.detokenize import detokenizer_for
    from rnn_pipeline.tasks.translation.report import score

    # A word-level model writes tokens joined by spaces; Spanish attaches "¿", "," and ".".
    spaced = ["¿ Puedes hablar francés ?", "Por favor , no lo sé .", "¡ Hola ! « Sí » ..."]
    references = ["¿Puedes hablar francés?", "Por favor, no lo sé.", "¡Hola! «Sí»..."]
    hypotheses = [t.decode() for t in detokenizer_for("es")(tf.constant(spaced)).numpy()]
    assert hypotheses == references
    result = score(hypotheses, references, "es")
    assert result["bleu"] == pytest.approx(100.0) and "tok:13a" in result["bleu_signature"]
    assert "nrefs:1" in result["chrf_signature"]
    japanese = [t.decode() for t in detokenizer_for("ja")(
        tf.constant(["彼 は 忙しかった 。", "トム は Mary に 会った 。"])).numpy()]
    assert japanese == ["彼は忙しかった。", "トムはMaryに会った。"]
    result = score(japanese[:1], ["彼は忙しかった。"], "ja")
    assert result["bleu"] == pytest.approx(100.0) and "tok:char" in result["bleu_signature"]


def test_references_get_the_target_sides_normalization():
    from rnn_pipeline.config import pipeline_from_dict
    from rnn_pipeline.tasks.translation.workflow import TranslationWorkflow

    config = pipeline_from_dict({"task": "translation", "pairs": {"file": "x.tsv"},
                                 "target_text": {"normalization": "nfkc", "lowercase": True}})
    # full-width Latin, half-width katakana and a circled digit: NFKC's targets
    assert TranslationWorkflow(config).references(["ＡＢＣ ｶﾀｶﾅ①"]) == ["abc カタカナ1"]
