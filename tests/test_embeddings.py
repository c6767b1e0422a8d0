"""Pretrained word vectors: formats, coverage, initialisation, freezing, Word2Vec, CLI."""

import gzip
import struct

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_config

from rnn_pipeline.cli.main import cli
from rnn_pipeline.embeddings import (WordVectors, check_embeddings, nearest, pretrained_matrix,
                                     read_vectors)
from rnn_pipeline.embeddings.word2vec import stream_sentences
from rnn_pipeline.config import EmbeddingsConfig
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.workflows import get_workflow

WORDS = ["the", "cat", "猫", "Dog"]
MATRIX = np.array([[0.5, -1.25, 2.0], [1e-3, 3.5, -0.75], [0.0, 0.125, 9.5],
                   [-2.0, 0.25, 1.5]], np.float32)


def write_glove(path, words=WORDS, matrix=MATRIX, header=False):
    lines = [f"{len(words)} {matrix.shape[1]}"] if header else []
    lines += [w + " " + " ".join(repr(float(v)) for v in row) for w, row in zip(words, matrix)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    _write(path, data)


def write_binary(path, words=WORDS, matrix=MATRIX):
    data = f"{len(words)} {matrix.shape[1]}\n".encode()
    for word, row in zip(words, matrix):
        data += word.encode("utf-8") + b" " + struct.pack(f"<{len(row)}f", *row) + b"\n"
    _write(path, data)


def _write(path, data):
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


@pytest.fixture
def vector_files(tmp_path):
    files = {}
    for gz in ("", ".gz"):
        files[f"glove{gz}"] = tmp_path / f"glove.txt{gz}"
        write_glove(files[f"glove{gz}"])
        files[f"word2vec_text{gz}"] = tmp_path / f"w2v.txt{gz}"
        write_glove(files[f"word2vec_text{gz}"], header=True)
        files[f"word2vec_binary{gz}"] = tmp_path / f"w2v.bin{gz}"
        write_binary(files[f"word2vec_binary{gz}"])
    return files


def test_all_formats_parse_to_identical_matrices_and_agree_with_gensim(vector_files):
    from gensim.models import KeyedVectors

    for name, path in vector_files.items():
        fmt = name.removesuffix(".gz")
        for given in ("auto", fmt):
            vectors = read_vectors(path, given)
            assert vectors.words == WORDS, name
            np.testing.assert_array_equal(vectors.matrix, MATRIX, err_msg=name)
        reference = KeyedVectors.load_word2vec_format(
            str(path), binary=fmt == "word2vec_binary", no_header=fmt == "glove")
        assert reference.index_to_key == WORDS
        np.testing.assert_array_equal(reference.vectors, MATRIX)


@pytest.mark.parametrize("content, fmt, message", [
    ("the 1 2 3\ncat 1 2\n", "glove", "line 2 has 2 numbers"),
    ("the 1 2 3\ncat 1 x 3\n", "glove", "line 2 has '1 x 3'"),
    ("2 3\nthe 1 2 3\n", "word2vec_text", "must hold the 2 vectors its header declares; it has 1"),
    ("the 1 2 3\n", "word2vec_text", "must start with a '<count> <dim>' line"),
    ("2 3\nthe 1 2 3\ncat 1 2 3 4\n", "auto", "line 3 has 4 numbers"),
])
def test_malformed_files_name_the_line(tmp_path, content, fmt, message):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError, match="embeddings.file") as caught:
        read_vectors(path, fmt)
    assert message in str(caught.value) and f"Received: embeddings.file='{path}'" in str(
        caught.value)


def test_a_cut_short_binary_file_names_the_vector(tmp_path):
    path = tmp_path / "cut.bin"
    write_binary(path)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(PipelineError, match=r"vector 4 \(b'Dog'\) is cut short"):
        read_vectors(path)


def test_bad_bytes_name_the_line_and_an_unknown_format_lists_the_valid_ones(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"the 1 2\ncaf\xe9 3 4\n")
    with pytest.raises(PipelineError, match="must be UTF-8; line 2 is not"):
        read_vectors(path)
    with pytest.raises(PipelineError, match="embeddings.format must be one of: 'auto', 'glove', "
                                            "'word2vec_binary', 'word2vec_text'. Received: "
                                            "embeddings.format='fasttext'"):
        read_vectors(path, "fasttext")


ITOS = ["<unk>", "<eos>", "the", "cat", "dog", "zebra", "猫"]
STREAM = [2, 3, 1, 2, 4, 1, 5, 5, 5, 1, 2, 0, 1]  # the x3, cat 1, dog 1, zebra 3, <unk> 1, <eos> 4


def test_coverage_counts_types_tokens_and_lists_the_frequent_missing_words():
    vectors = WordVectors(WORDS, MATRIX)
    initial = np.full((len(ITOS), 3), 7.0, np.float32)
    matrix, coverage = pretrained_matrix(ITOS, vectors, initial, STREAM)
    # found: the, cat, 猫 (Dog only matches in lower case)
    assert (coverage.vocabulary_types, coverage.found_types) == (7, 3)
    assert (coverage.training_tokens, coverage.found_tokens) == (13, 4)  # the x3 + cat
    assert coverage.top_missing[:3] == [["<eos>", 4], ["zebra", 3], ["<unk>", 1]]
    assert coverage.lowercase_matches == 0
    np.testing.assert_array_equal(matrix[[2, 3, 6]], MATRIX[[0, 1, 2]])
    np.testing.assert_array_equal(matrix[[0, 1, 4, 5]], 7.0)  # "random" keeps the model's rows

    matrix, coverage = pretrained_matrix(ITOS, vectors, initial, STREAM, lowercase=True)
    assert (coverage.found_types, coverage.found_tokens, coverage.lowercase_matches) == (4, 5, 1)
    np.testing.assert_array_equal(matrix[4], MATRIX[3])
    assert coverage.lines("v.txt")[0] == ("Pretrained vectors v.txt: 4 of 7 vocabulary words "
                                          "(57.1%), 38.5% of training tokens; 1 matched in "
                                          "lower case")


def test_missing_rows_get_the_configured_initialisation():
    words = [f"w{i}" for i in range(400)]
    rng = np.random.default_rng(0)
    vectors = WordVectors(words, rng.normal(0.3, 2.0, (400, 8)).astype(np.float32))
    itos = ["<unk>", "<eos>", *words[:10], *[f"oov{i}" for i in range(300)]]
    initial = np.ones((len(itos), 8), np.float32)
    zeros, _ = pretrained_matrix(itos, vectors, initial, [2], missing="zeros")
    assert not zeros[12:].any() and not zeros[:2].any()
    scaled, _ = pretrained_matrix(itos, vectors, initial, [2], missing="scaled", seed=3)
    rows = scaled[12:]
    assert abs(rows.std() - vectors.matrix.std()) < 0.1
    assert abs(rows.mean() - vectors.matrix.mean()) < 0.1
    np.testing.assert_array_equal(scaled[2:12], vectors.matrix[:10])


def test_dimension_mismatch_and_zero_coverage_are_errors():
    vectors = WordVectors(WORDS, MATRIX, source="v.txt")
    with pytest.raises(PipelineError, match="must hold vectors of model.embedding_dim = 5 "
                                            "numbers; it holds 3"):
        pretrained_matrix(ITOS, vectors, np.zeros((7, 5), np.float32), STREAM)
    with pytest.raises(PipelineError, match="none of its 4 words is among the 3 vocabulary"):
        pretrained_matrix(["<unk>", "<eos>", "zebra"], vectors, np.zeros((3, 3)), [2])


@pytest.mark.parametrize("settings, message", [
    ({"missing": "normal"}, "embeddings.missing must be one of: 'random', 'scaled', 'zeros'"),
    ({"format": "vec"}, "embeddings.format must be one of: 'auto', 'glove'"),
    ({"frozen_epochs": -1}, "embeddings.frozen_epochs must be at least 0"),
    ({"trainable": False, "frozen_epochs": 2}, "must be 0 when embeddings.trainable is false"),
    ({"file": "no/such.txt"}, "embeddings.file must be an existing vectors file"),
])
def test_embedding_settings_are_checked(settings, message):
    with pytest.raises(PipelineError, match=message):
        check_embeddings(EmbeddingsConfig(**settings))


def test_nearest_neighbours_by_cosine():
    words = ["a", "b", "c", "d"]
    matrix = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]], np.float32)
    result = nearest(words, matrix, "a", k=3)
    assert [w for w, _ in result] == ["b", "c", "d"]
    assert result[1][1] == pytest.approx(0.0) and result[2][1] == pytest.approx(-1.0)
    assert nearest(words, matrix, "A", k=1, lowercase=True)[0][0] == "b"
    with pytest.raises(PipelineError, match="WORD must be a word with a vector"):
        nearest(words, matrix, "e")


def test_stream_sentences_end_with_eos():
    assert stream_sentences(STREAM, ITOS, 1)[:2] == [["the", "cat", "<eos>"],
                                                     ["the", "dog", "<eos>"]]


class Snapshots(keras.callbacks.Callback):
    """The embedding matrix at the start and after every epoch."""

    def __init__(self, layer):
        super().__init__()
        self.layer, self.seen = layer, []

    def on_train_begin(self, logs=None):
        self.seen.append(self.layer.embeddings.numpy().copy())

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.layer.embeddings.numpy().copy())


def embedding_snapshots(config, run_path):
    workflow = get_workflow("causal_lm")(config, log=lambda line: None).validate().prepare()
    snapshots = Snapshots(workflow.embedding_layer)
    workflow.fit(run_path, callbacks=[snapshots])
    return workflow, snapshots.seen


@pytest.mark.slow  # 8 s on 2 cores: the slow suite runs it
def test_frozen_embedding_does_not_change_and_thaws_after_frozen_epochs(tiny_corpus, tmp_path):
    vectors = tmp_path / "tiny.txt"
    words = ["the", "cat", "dog", "mat", "on", "sat", "<eos>"]
    matrix = np.arange(28, dtype=np.float32).reshape(7, 4) / 10
    write_glove(vectors, words, matrix)
    workflow, frozen = embedding_snapshots(tiny_config(tiny_corpus, embeddings={
        "file": str(vectors), "trainable": False}, train={"epochs": 2}), tmp_path / "frozen")
    ids = [workflow.vocabulary.id(w) for w in words]
    np.testing.assert_array_equal(frozen[0][ids], matrix)
    assert np.array_equal(frozen[0], frozen[1]) and np.array_equal(frozen[1], frozen[2])
    _, thawed = embedding_snapshots(tiny_config(tiny_corpus, embeddings={
        "file": str(vectors), "frozen_epochs": 1}, train={"epochs": 2}), tmp_path / "thawed")
    assert np.array_equal(thawed[0], thawed[1]) and not np.array_equal(thawed[1], thawed[2])


def test_embed_writes_word2vec_text_that_feeds_back_in(tiny_corpus, tmp_path, monkeypatch):
    import rnn_pipeline.config as config_lib

    monkeypatch.chdir(tmp_path)
    pipeline = tmp_path / "tiny.toml"
    pipeline.write_text(config_lib.dumps(tiny_config(tiny_corpus, word2vec={"epochs": 2})))
    runner = CliRunner()
    result = runner.invoke(cli, ["embed", str(pipeline), "--out", "v.txt"])
    assert result.exit_code == 0, result.output
    assert "word2vec epoch 2/2 done" in result.output
    vectors = read_vectors(tmp_path / "v.txt", "word2vec_text")
    assert vectors.dim == 4 and "<eos>" in vectors.index and "猫" in vectors.index
    again = runner.invoke(cli, ["embed", str(pipeline), "--out", "v.txt"])
    assert again.exit_code == 2 and "--out must not exist yet" in again.output
    fit = runner.invoke(cli, ["fit", str(pipeline), "--run-dir", "run",
                              "--set", "embeddings.file=v.txt"])
    assert fit.exit_code == 0, fit.output
    assert "of training tokens" in fit.output and (tmp_path / "run/embedding_coverage.json").exists()
    shown = runner.invoke(cli, ["neighbors", "run", "cat", "--k", "2"])
    assert shown.exit_code == 0, shown.output
    assert "in the trained embedding of run" in shown.output
    assert f"in the input vectors {tmp_path / 'v.txt'}" in shown.output  # absolute
    assert len([line for line in shown.output.splitlines() if line.startswith("  ")]) == 4


def test_embed_without_gensim_names_the_extra(tiny_corpus, tmp_path, monkeypatch):
    import sys

    import rnn_pipeline.config as config_lib

    monkeypatch.setitem(sys.modules, "gensim", None)  # import gensim raises ImportError
    pipeline = tmp_path / "tiny.toml"
    pipeline.write_text(config_lib.dumps(tiny_config(tiny_corpus)))
    out = tmp_path / "v.txt"
    result = CliRunner().invoke(cli, ["embed", str(pipeline), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: rnn-pipeline embed needs gensim, an optional dependency: pip install "
        "'rnn-pipeline[word2vec]'. Received: gensim not installed"]
    assert not out.exists()


def test_a_missing_vectors_file_is_one_error_line_and_writes_nothing(tiny_corpus, tmp_path):
    import rnn_pipeline.config as config_lib

    pipeline = tmp_path / "tiny.toml"
    pipeline.write_text(config_lib.dumps(tiny_config(tiny_corpus, embeddings={
        "file": str(tmp_path / "none.txt")})))
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "embeddings.file must be an existing vectors file" in result.output
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("content, message", [
    ("the 1 2 3 4\ncat 1 2\n", "line 2 has 2 numbers"),
    ("the 1 2 3\ncat 1 2 3\n", "must hold vectors of model.embedding_dim = 4 numbers; it holds 3"),
    ("zebra 1 2 3 4\n", "none of its 1 words is among the"),
])
def test_bad_vectors_files_are_one_error_line_and_write_nothing(tiny_corpus, tmp_path,
                                                                 content, message):
    import rnn_pipeline.config as config_lib

    vectors = tmp_path / "v.txt"
    vectors.write_text(content, encoding="utf-8")
    pipeline = tmp_path / "tiny.toml"
    pipeline.write_text(config_lib.dumps(tiny_config(tiny_corpus, embeddings={
        "file": str(vectors)})))
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "r").exists()
