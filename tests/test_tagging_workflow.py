"""`rnn-pipeline fit` on a tagging pipeline (softmax and CRF heads, CoNLL NER and CoNLL-U
POS files): run folder with accuracy, entity F1 and the baseline, the predictions, and the
evaluate, export and list commands."""

import json

import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli

NER = ["EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n", "Peter B-PER\nBlackburn I-PER\nruns O\n",
       "BRUSSELS B-LOC\nis O\ncold O\n", "The O\nEuropean B-ORG\nCommission I-ORG\nsaid O\n",
       "Germany B-LOC\nsaid O\nno O\n", "Blackburn B-PER\nis O\nhere O\n"]
POS = ["The DET\ncat NOUN\nsleeps VERB\n", "A DET\ndog NOUN\nruns VERB\n",
       "The DET\ndog NOUN\nsleeps VERB\n", "A DET\ncat NOUN\nruns VERB\n"]

PIPELINE = """
name = "tiny_tagger"
task = "tagging"
[data]
train = ["{train}"]
valid_fraction = 0.2
test_fraction = 0.2
[tagging]
column = "upos"
[model]
cell = "lstm"
units = 4
embedding_dim = 4
char_embedding_dim = 4
char_units = 4
num_layers = 1
dropout = 0.1
head = "{head}"
[train]
epochs = 2
batch_size = 2
learning_rate = 0.01
"""


def _conllu(sentence, number):
    rows = [line.split() for line in sentence.splitlines()]
    return (f"# sent_id = {number}\n"
            + "".join(f"{i}\t{w}\t{w.lower()}\t{t}\t_\t_\t0\tdep\t_\t_\n"
                      for i, (w, t) in enumerate(rows, start=1)) + "\n")


def _fit(tmp_path, head="softmax", conllu=False, extra=""):
    if conllu:  # POS tags in the UPOS column
        train = tmp_path / "train.conllu"
        train.write_text("".join(_conllu(s, n) for n, s in enumerate(POS * 3)),
                         encoding="utf-8")
    else:
        train = tmp_path / "train.conll"  # NER tags, IOB2
        train.write_text("\n".join(NER * 2) + "\n", encoding="utf-8")
    pipeline = tmp_path / "tagger.toml"
    pipeline.write_text(PIPELINE.format(train=train, head=head) + extra)
    run = tmp_path / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run


@pytest.fixture(scope="module")
def fitted_crf(fitted_tagging):
    """(result, run) of the CRF head on the CoNLL NER file, fitted once per session."""
    return fitted_tagging


def _check_run(result, run, entities):
    assert result.exit_code == 0, result.output
    assert "Data: train " in result.output and "baseline (most frequent tag)" in result.output
    for name in ("config.toml", "model.keras", "tagging_metrics.json", "predictions.tsv",
                 "tags.txt", "words.txt", "metrics.json"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "tagging_metrics.json").read_text(encoding="utf-8"))
    for split in ("test", "valid"):
        assert 0.0 <= metrics[split]["accuracy"] <= 1.0
        assert 0.0 <= metrics["baseline"][split]["accuracy"] <= 1.0
        assert ("entities" in metrics[split]) == entities
    assert metrics["train_seconds"] > 0
    png = run / ("entity_f1.png" if entities else "confusion_matrix.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (run / ("confusion_matrix.png" if entities else "entity_f1.png")).exists()
    sentences = (run / "predictions.tsv").read_text(encoding="utf-8").strip().split("\n\n")
    assert len(sentences) == metrics["test"]["sentences"]
    assert all(len(line.split("\t")) == 3 for s in sentences for line in s.splitlines())
    return metrics


@pytest.mark.slow  # 11 s on 2 cores: the slow suite runs it
def test_softmax_head_on_conllu_pos(tmp_path):
    result, run = _fit(tmp_path, conllu=True)
    metrics = _check_run(result, run, entities=False)
    assert metrics["tag_scheme"] == "tags"
    evaluated = CliRunner().invoke(cli, ["evaluate", str(run), "--split", "valid"])
    assert evaluated.exit_code == 0, evaluated.output
    lines = evaluated.output.splitlines()
    assert any(line.startswith("valid accuracy ") for line in lines)
    saved = json.loads((run / "evaluation" / "valid.json").read_text(encoding="utf-8"))
    assert f"{100 * saved['model']['accuracy']:.2f}%" in lines[-4]
    png = run / "evaluation" / "valid_confusion_matrix.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and f"Saved {png}" in lines
    # The softmax head's export (the CRF head's: exported_crf) tags as the model does.
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the export uses its ops)

    from rnn_pipeline.tasks.tagging.workflow import TaggingWorkflow
    from tests_support import export_run

    path = export_run(run, tmp_path / "export")
    tokens = [["The", "dog", "runs"], ["A", "cat", ""]]
    served = tf.saved_model.load(str(path)).signatures["serving_default"](
        tokens=tf.constant(tokens))
    workflow = TaggingWorkflow.from_run(run, log=lambda *_: None)
    assert _strings(served["tags"]) == _expected_tags(workflow, tokens)


def test_crf_head_on_conll_ner_fits_and_evaluates(fitted_crf):
    result, run = fitted_crf
    metrics = _check_run(result, run, entities=True)
    assert "entity F1" in result.output and metrics["tag_scheme"] == "iob2"
    evaluated = CliRunner().invoke(cli, ["evaluate", str(run)])
    assert evaluated.exit_code == 0, evaluated.output
    assert any(line.startswith("test accuracy ") for line in evaluated.output.splitlines())
    assert "entity F1" in evaluated.output


def test_pretrained_vectors_fill_the_word_embedding(tmp_path):
    import numpy as np

    from rnn_pipeline import config as config_lib
    from rnn_pipeline.tasks.tagging.workflow import TaggingWorkflow

    vectors = {"Peter": [0.5, -1.0, 2.0, 0.25], "EU": [1.0, 2.0, 3.0, 4.0]}
    glove = tmp_path / "vectors.txt"
    glove.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vectors.items()))
    train = tmp_path / "train.conll"
    train.write_text("\n".join(NER * 2) + "\n", encoding="utf-8")
    pipeline = tmp_path / "tagger.toml"
    pipeline.write_text(PIPELINE.format(train=train, head="softmax")
                        + f'[embeddings]\nfile = "{glove}"\ntrainable = false\n')
    logged = []
    workflow = TaggingWorkflow(config_lib.load(pipeline), log=logged.append).prepare()
    words = workflow.vocabularies.words
    matrix = workflow.model.word_embedding.embeddings.numpy()
    for word, vector in vectors.items():
        np.testing.assert_array_equal(matrix[words.index(word)], np.float32(vector))
    assert not workflow.model.word_embedding.trainable
    assert workflow.coverage.found_types == 2 and any("vectors.txt" in line for line in logged)


@pytest.fixture(scope="module")
def exported_crf(fitted_crf, tmp_path_factory):
    """(run, export version folder, loaded workflow) of the module's CRF run."""
    from rnn_pipeline.tasks.tagging.workflow import TaggingWorkflow
    from tests_support import export_run

    _, run = fitted_crf
    path = export_run(run, tmp_path_factory.mktemp("export"))
    return run, path, TaggingWorkflow.from_run(run, log=lambda *_: None)


def _expected_tags(workflow, tokens):
    import tensorflow as tf

    ids = workflow.model.predict_tags(tf.constant(tokens)).numpy()
    return [[workflow.vocabularies.tags[i] if t else "" for i, t in zip(row, words)]
            for row, words in zip(ids, tokens)]


def _strings(tensor):
    return [[t.decode() for t in row] for row in tensor.numpy()]


def test_export_returns_the_tags_of_predict_tags(exported_crf):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the export uses its ops)

    _, path, workflow = exported_crf
    tokens = [["Peter", "Blackburn", "said", "no"], ["EU", "", "", ""]]
    served = tf.saved_model.load(str(path)).signatures["serving_default"](
        tokens=tf.constant(tokens))
    assert _strings(served["tags"]) == _expected_tags(workflow, tokens)
    scores = served["scores"].numpy()
    assert scores.shape == (2, 4) and (scores[0] > 0).all() and (scores[1, 1:] == 0).all()


def test_the_sentences_signature_tokenizes_in_the_graph(exported_crf):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    _, path, workflow = exported_crf
    sentences = ["Peter  Blackburn\tsaid\u3000no", "EU", ""]
    served = tf.saved_model.load(str(path)).signatures["tag_sentences"](
        sentences=tf.constant(sentences))
    tokens = [workflow.tokenize(s) for s in sentences]  # the tag command's tokens
    padded = [t + [""] * (4 - len(t)) for t in tokens]
    assert _strings(served["tokens"]) == padded
    assert _strings(served["tags"]) == _expected_tags(workflow, padded)


def test_serve_answers_both_signatures_over_http(exported_crf):
    from test_serving import call, serving

    _, path, workflow = exported_crf
    with serving(path.parent.parent) as url:
        url += f"/v1/models/{path.parent.name}:predict"
        status, body = call(url, {"instances": [{"tokens": ["EU", "rejects", "Peter"]}]})
        assert status == 200, body
        (row,) = body["predictions"]
        assert row["tags"] == _expected_tags(workflow, [["EU", "rejects", "Peter"]])[0]
        status, body = call(url, {"signature_name": "tag_sentences",
                                  "instances": [{"sentences": "EU rejects Peter"}]})
        assert status == 200, body
        assert body["predictions"][0]["tags"] == row["tags"]
        assert body["predictions"][0]["tokens"] == ["EU", "rejects", "Peter"]


def test_tagging_is_listed():
    listed = CliRunner().invoke(cli, ["list"])
    assert any(line.split(maxsplit=1)[:1] == ["tagging"] for line in listed.output.splitlines())


def test_tag_prints_each_token_with_its_tag_and_refuses_another_tasks_run(fitted_crf,
                                                                          fitted_lm_run):
    from rnn_pipeline.tasks.tagging.workflow import TaggingWorkflow

    _, run = fitted_crf
    texts = ["Peter Blackburn said here", "EU rejects German call"]
    result = CliRunner().invoke(cli, ["tag", str(run), "--text", texts[0], "--text", texts[1]])
    assert result.exit_code == 0, result.output
    workflow = TaggingWorkflow.from_run(run, log=lambda *_: None)
    expected = workflow.predict([t.split() for t in texts])
    assert result.output.splitlines() == [
        " ".join(f"{w}/{t}" for w, t in zip(text.split(), tags))
        for text, tags in zip(texts, expected)]
    other = CliRunner().invoke(cli, ["tag", str(fitted_lm_run), "--text", "the cat"])
    assert other.exit_code == 2
    assert other.output.strip() == (f"Error: RUN must be a tagging run (task 'tagging'), but "
                                     f"its task is 'causal_lm'. Received: RUN='{fitted_lm_run}'")
