"""`rnn-pipeline tag RUN --input FILE --out FILE`: every reader format in, the same format
out with the run's predicted tags; mistakes are one line and write nothing."""

import json

import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from rnn_pipeline.tasks.tagging.schemes import entities

SENTENCES = [["Peter", "Blackburn", "said", "here"], ["EU", "rejects", "German", "call"]]


@pytest.fixture(scope="module")
def tagger(fitted_tagging):
    """(run folder, workflow) of the session's tiny NER run."""
    from rnn_pipeline.tasks.tagging.workflow import TaggingWorkflow

    _, run = fitted_tagging
    return run, TaggingWorkflow.from_run(run, log=lambda *_: None)


def _tag(run, source, out, *extra):
    result = CliRunner().invoke(cli, ["tag", str(run), "--input", str(source), "--out",
                                      str(out), *extra])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(f"-> {out}")
    return out.read_text(encoding="utf-8")


def _columns(text):
    return [[line.split("\t") for line in block.splitlines()]
            for block in text.strip().split("\n\n")]


@pytest.mark.parametrize("with_tags", [False, True])
def test_conll_in_conll_out(tagger, tmp_path, with_tags):
    run, workflow = tagger
    source = tmp_path / "in.conll"
    source.write_text("-DOCSTART- O\n\n" + "\n\n".join(
        "\n".join(f"{w} O" if with_tags else w for w in s) for s in SENTENCES) + "\n")
    written = _tag(run, source, tmp_path / "out.tsv")
    expected = workflow.predict(SENTENCES)
    assert _columns(written) == [[[w, t] for w, t in zip(s, tags)]
                                 for s, tags in zip(SENTENCES, expected)]


def test_text_lines_are_tokenized_as_text_is(tagger, tmp_path):
    run, workflow = tagger
    source = tmp_path / "in.txt"
    source.write_text("\n".join(" ".join(s) for s in SENTENCES) + "\n\n")
    written = _tag(run, source, tmp_path / "out.tsv")
    assert [[row[1] for row in block] for block in _columns(written)] == \
        workflow.predict(SENTENCES)


def test_conllu_keeps_every_line_and_fills_the_column(tagger, tmp_path):
    run, workflow = tagger
    rows = ["# sent_id = 1", "1\tPeter\t_\t_\t_\t_\t0\troot\t_\tSpaceAfter=No",
            "2-3\tBlackburn's\t_\t_\t_\t_\t_\t_\t_\t_", "2\tBlackburn\t_\t_\t_\t_\t1\tdep\t_\t_",
            "3\t's\t_\t_\t_\t_\t1\tdep\t_\t_", "3.1\tsaid\t_\t_\t_\t_\t_\t_\t_\t_"]
    source = tmp_path / "in.conllu"
    source.write_text("\n".join(rows) + "\n\n")
    written = _tag(run, source, tmp_path / "out.conllu").splitlines()
    assert len(written) == len(rows) and written[0] == rows[0]
    assert written[2] == rows[2] and written[5] == rows[5]  # range and empty node kept
    tags = workflow.predict([["Peter", "Blackburn", "'s"]])[0]
    assert [written[i].split("\t")[3] for i in (1, 3, 4)] == tags  # the run's column: upos
    assert written[1].split("\t")[9] == "SpaceAfter=No"


def test_spans_json_gets_the_predicted_spans(tagger, tmp_path):
    run, workflow = tagger
    items = [{"curid": "7", "text": "EU Peter", "entities": []}, {"text": "call"}]
    source = tmp_path / "in.json"
    source.write_text(json.dumps(items))
    written = json.loads(_tag(run, source, tmp_path / "out.json"))
    predicted = workflow.predict([list(item["text"]) for item in items])
    assert [item["text"] for item in written] == ["EU Peter", "call"]
    assert written[0]["curid"] == "7"
    assert [[(e["type"], *e["span"]) for e in item["entities"]] for item in written] == \
        [entities(tags) for tags in predicted]


@pytest.mark.parametrize("arguments, message", [
    (["--text", "a", "--input", "IN"], "give either --text or --input (one of them)"),
    ([], "give either --text or --input (one of them)"),
    (["--input", "IN"], "--out must name the file to write the tagged --input to"),
    (["--text", "a", "--out", "OUT"], "--out applies to --input only"),
    (["--input", "IN", "--out", "IN"], "--out must not be the --input file"),
])
def test_option_mistakes_are_one_line(tagger, tmp_path, arguments, message):
    run, _ = tagger
    source = tmp_path / "in.conll"
    source.write_text("Peter\n")
    names = {"IN": str(source), "OUT": str(tmp_path / "out.conll")}
    result = CliRunner().invoke(cli, ["tag", str(run), *[names.get(a, a) for a in arguments]])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {message}") and result.output.count("\n") == 1
    assert not (tmp_path / "out.conll").exists()


def test_a_malformed_conllu_line_names_file_and_line_and_writes_nothing(tagger, tmp_path):
    run, _ = tagger
    source = tmp_path / "in.conllu"
    source.write_text("1\tPeter\t_\t_\t_\t_\t0\troot\t_\t_\n2\tBlackburn\t_\t_\n")
    out = tmp_path / "out.conllu"
    result = CliRunner().invoke(cli, ["tag", str(run), "--input", str(source), "--out",
                                      str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert result.output.startswith(f"Error: {source}:2 must be a CoNLL-U token line: 10 "
                                    f"tab-separated")
