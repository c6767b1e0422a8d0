"""Readers, normalization, tokenizers, vocabulary."""

import numpy as np
import pytest
import tensorflow as tf

from rnn_pipeline.config import DataConfig, TextConfig
from rnn_pipeline.data.corpora import interleaved_split, load_corpus
from rnn_pipeline.data.preprocessor import TextPreprocessor, normalize
from rnn_pipeline.data.readers import read_lines
from rnn_pipeline.data.text_pipeline import fit_text
from rnn_pipeline.data.vocabulary import Vocabulary
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tokenizers import make_tokenizer

AOZORA = "aozora/{}/1567_ruby_4948.txt"  # 走れメロス, the shortest novel


def _strings(ragged):
    return [[t.decode("utf-8") for t in row] for row in ragged.to_list()]


# --- readers ---------------------------------------------------------------

def test_shift_jis_file_reads_like_its_utf8_copy(dataset, data_mirror):
    sjis = read_lines(dataset("aozora")["1567_ruby_4948"], encoding="shift_jis")
    utf8 = read_lines(data_mirror / AOZORA.format("utf8"), encoding="utf-8")
    assert sjis == utf8 and len(sjis) > 50
    assert any("\u3042" <= ch <= "\u9fff" for ch in sjis[0])  # real Japanese text


def test_undecodable_bytes_name_the_file_and_offset(dataset):
    path = dataset("aozora")["1567_ruby_4948"]
    first_bad = next(i for i, b in enumerate(path.read_bytes()) if b >= 0x80)
    with pytest.raises(PipelineError) as info:
        read_lines(path, encoding="utf-8")
    message = str(info.value)
    assert message.startswith(f"{path}: cannot decode byte offset {first_bad} ")
    assert message.endswith("Received: data.encoding='utf-8'")


def test_offset_points_at_the_bad_byte(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes("abc\n".encode() + "猫".encode("shift_jis"))
    with pytest.raises(PipelineError, match=r"cannot decode byte offset 4 \(bytes b'\\x94'\)"):
        read_lines(path)


@pytest.mark.parametrize("content", ["", "  \n\t\n \n"])
def test_empty_or_whitespace_corpus_is_an_error(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_text(content)
    with pytest.raises(PipelineError, match=r"empty.txt: the train split is empty"):
        load_corpus(DataConfig(corpus="files", train=[str(path)]))


def test_globs_and_missing_files(tmp_path):
    for i in range(3):
        (tmp_path / f"part{i}.txt").write_text("\n".join(f"line {i} {j}" for j in range(10)))
    corpus = load_corpus(DataConfig(corpus="files", train=[str(tmp_path / "part*.txt")]))
    assert len(corpus.train) + len(corpus.valid) + len(corpus.test) == 30
    assert corpus.valid[0] == "line 0 8" and corpus.test[0] == "line 0 9"
    with pytest.raises(PipelineError) as info:
        load_corpus(DataConfig(corpus="files", train=[str(tmp_path / "nope*.txt")]))
    assert str(info.value) == (f"data.train must name existing files (paths or globs). "
                               f"Received: data.train='{tmp_path / 'nope*.txt'}'")


def test_unknown_encoding_is_named():
    with pytest.raises(PipelineError, match=r"^data.encoding must be a text encoding"):
        load_corpus(DataConfig(corpus="files", train=["x"], encoding="klingon"))


def test_interleaved_split_every_tenth():
    train, valid, test = interleaved_split(list(range(25)), 10)
    assert valid == [8, 18] and test == [9, 19] and len(train) == 21


def test_pydoc_corpus_is_interleaved_and_deterministic():
    a = load_corpus(DataConfig())
    b = load_corpus(DataConfig())
    assert a == b
    assert 8 * len(a.valid) <= len(a.train) <= 9 * len(a.valid) + 9


# --- normalization and tokenizers ------------------------------------------

def test_nfkc_and_lowercase():
    text = tf.constant(["ＡＢＣ　ｶﾀｶﾅ ①"])
    assert normalize(text, "nfkc", lowercase=True).numpy()[0].decode() == "abc カタカナ 1"
    assert normalize(text, "none").numpy()[0].decode() == "ＡＢＣ　ｶﾀｶﾅ ①"
    with pytest.raises(PipelineError, match=r"^text.normalization must be one of: nfkc, none"):
        normalize(text, "nfc")


@pytest.mark.parametrize("name, expected", [
    ("whitespace", [["the", "cat,", "東京で猫"], []]),
    ("character", [list("the  cat, 東京で猫"), []]),
    ("unicode_script", [["the", "cat", ",", "東京", "で", "猫"], []]),
])
def test_rule_based_tokenizers(name, expected):
    tokens = make_tokenizer(name).tokenize(tf.constant(["the  cat, 東京で猫", ""]))
    assert _strings(tokens) == expected


def test_whitespace_splits_as_python_does_on_every_unicode_space():
    # tensorflow-text's WhitespaceTokenizer cut U+3000 mid-character ("said\xe3\x80").
    text = "said\u3000no\u00a0way\u2003at\x0ball\u2029 東京\x1cで \t"
    tokens = make_tokenizer("whitespace").tokenize(tf.constant([text]))
    assert _strings(tokens) == [text.split()]


def test_sentencepiece_segments_japanese_in_the_graph(dataset):
    lines = read_lines(dataset("aozora")["1567_ruby_4948"], encoding="shift_jis")
    tokenizer = make_tokenizer("sentencepiece")
    tokenizer.train(lines, TextConfig(sentencepiece_vocab_size=1500), seed=0)
    sentence = lines[20]
    pieces = _strings(tokenizer.tokenize(tf.constant([sentence])))[0]
    assert 1 < len(pieces) < len(sentence)  # segmented below the sentence, above characters
    assert "".join(pieces).replace("\u2581", " ").strip() == sentence.strip()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def graph_tokenize(text):
        return tokenizer.tokenize(text).flat_values

    assert [t.decode() for t in graph_tokenize(tf.constant([sentence])).numpy()] == pieces


# --- vocabulary ------------------------------------------------------------

def test_vocabulary_order_limits_and_file(tmp_path):
    counts = {"b": 3, "a": 3, "c": 1, "<unk>": 5, "d": 2}
    vocab = Vocabulary.build(counts)
    assert vocab.itos == ["<unk>", "<eos>", "a", "b", "d", "c"]
    assert Vocabulary.build(counts, max_size=4).itos == ["<unk>", "<eos>", "a", "b"]
    assert Vocabulary.build(counts, min_frequency=2).itos == ["<unk>", "<eos>", "a", "b", "d"]
    vocab.save(tmp_path / "vocab.txt")
    assert (tmp_path / "vocab.txt").read_text() == "<unk>\n<eos>\na\nb\nd\nc\n"
    assert Vocabulary.load(tmp_path / "vocab.txt").itos == vocab.itos
    with pytest.raises(PipelineError, match=r"^text.max_size must be at least 3"):
        Vocabulary.build(counts, max_size=2)


def test_vocabulary_comes_from_train_only_and_literal_unk_shares_id_0():
    splits = {"train": ["the cat <unk> sat", "the <unk> cat"], "valid": ["the dog"]}
    preprocessor, vocab, streams = fit_text(splits, TextConfig(tokenizer="whitespace"))
    assert vocab.itos == ["<unk>", "<eos>", "cat", "the", "sat"]
    assert streams["train"].tolist() == [3, 2, 0, 4, 1, 3, 0, 2, 1]
    assert streams["valid"].tolist() == [3, 0, 1]
    ids = preprocessor(tf.constant(["the <unk> dog sat", "The"])).to_list()
    assert ids == [[3, 0, 0, 4], [0]]  # "dog" (valid only) and "<unk>" -> 0; case is kept


def test_preprocessor_config_round_trip():
    layer = TextPreprocessor({"name": "unicode_script"}, ["<unk>", "<eos>", "猫", "cat"],
                             lowercase=True)
    again = TextPreprocessor.from_config(layer.get_config())
    text = tf.constant(["CAT猫 dog"])
    assert again(text).to_list() == layer(text).to_list() == [[3, 2, 0]]
    assert again.get_config() == layer.get_config()


def test_sentencepiece_preprocessor_round_trip():
    lines = ["猫が寝た。", "犬が寝た。", "猫と犬が会った。"] * 20
    preprocessor, vocab, _ = fit_text(
        {"train": lines}, TextConfig(tokenizer="sentencepiece", sentencepiece_vocab_size=20))
    again = TextPreprocessor.from_config(preprocessor.get_config())
    ids = again(tf.constant(["犬と猫が寝た。"])).to_list()[0]
    assert ids == preprocessor(tf.constant(["犬と猫が寝た。"])).to_list()[0]
    assert 0 not in ids and len(vocab) > 5
    assert np.all(np.array(ids) < len(vocab))
