"""`rnn-pipeline fit` on a translation pipeline: run folder with BLEU/chrF, the translate,
evaluate and export commands, and one-line errors that write nothing."""

import json

import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from tests_support import PAIRS

PIPELINE = """
name = "tiny_mt"
task = "translation"
[pairs]
file = "{file}"
valid_fraction = 0.1
test_fraction = 0.1
{extra}
[source_text]
normalization = "none"
[target_text]
normalization = "none"
tokenizer = "character"
[model]
cell = "gru"
embedding_dim = 8
units = 8
num_layers = 1
bidirectional = true
attention = "dot"
[train]
epochs = 2
batch_size = 8
learning_rate = 0.01
[decode]
num_beams = 2
max_tokens = 12
"""


def _fit(tmp_path, extra="", lines=None):
    data = tmp_path / "pairs.tsv"
    data.write_text("".join(lines if lines is not None else
                            [f"{s}\t{t}\tCC-BY\n" for s, t in PAIRS]), encoding="utf-8")
    pipeline = tmp_path / "mt.toml"
    pipeline.write_text(PIPELINE.format(file=data, extra=extra))
    run = tmp_path / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run


@pytest.fixture
def fitted(fitted_translation):
    """One trained run (of this module's `_fit`, once per session) shared by the tests
    that only read it."""
    return fitted_translation


def test_fit_scores_the_test_pairs_and_writes_the_run_folder(fitted):
    result, run = fitted
    assert result.exit_code == 0, result.output
    assert "Pairs from" in result.output and "train 16, valid 2, test 2" in result.output
    scores = json.loads((run / "bleu.json").read_text(encoding="utf-8"))
    assert scores["pairs"] == 2 and 0.0 <= scores["bleu"] <= 100.0
    assert "tok:13a" in scores["bleu_signature"] and scores["num_beams"] == 2
    rows = (run / "translations.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "source\treference\ttranslation" and len(rows) == 3
    assert {r.split("\t")[0] for r in rows[1:]} <= {s for s, _ in PAIRS}
    for name in ("model.keras", "config.toml", "source_vocab.txt", "target_vocab.txt",
                 "bleu_by_length.png", "curves.png", "metrics.json"):
        assert (run / name).is_file(), name
    assert "test BLEU" in result.output and scores["bleu_signature"] in result.output
    assert scores["chrf_signature"] in result.output


def test_translate_and_evaluate_commands(fitted):
    result, run = fitted
    done = CliRunner().invoke(cli, ["translate", str(run), "--text", "red cat runs",
                                    "--text", "a b c d", "--num-beams", "1"])
    assert done.exit_code == 0, done.output
    assert len(done.output.rstrip("\n").split("\n")) == 2



def test_evaluate_prints_and_saves_the_scores_of_a_split(fitted, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(fitted[1], run)  # evaluate writes run/evaluation/
    evaluated = CliRunner().invoke(cli, ["evaluate", str(run), "--split", "valid"])
    assert evaluated.exit_code == 0, evaluated.output
    assert "valid BLEU" in evaluated.output and "over 2 pairs" in evaluated.output
    folder = run / "evaluation"
    saved = [folder / "valid.json", folder / "valid_bleu_by_length.png"]
    assert evaluated.output.strip().splitlines()[-2:] == [f"Saved {path}" for path in saved]
    figures = json.loads(saved[0].read_text(encoding="utf-8"))
    assert figures["split"] == "valid" and figures["pairs"] == 2
    assert (f"valid BLEU {figures['bleu']:.2f} ({figures['bleu_signature']})  chrF "
            f"{figures['chrf']:.2f}") in evaluated.output
    assert saved[1].stat().st_size > 0


def test_export_translates_in_a_tensorflow_only_process_and_saved_model_cli(fitted, tmp_path):
    from rnn_pipeline.tasks.translation.workflow import TranslationWorkflow
    from tests_support import export_run, tf_only_process

    result, run = fitted
    path = export_run(run, tmp_path)
    sources = ["red cat runs", "quick fox jumps", ""]
    out = tf_only_process(path, {"serving_default": {"source": sources}},
                          cli=("serving_default", "source=['red cat runs']"))
    assert out["modules"] == []
    expected = TranslationWorkflow.from_run(run, log=lambda *_: None).translate(sources)
    assert out["serving_default"]["translation"] == expected
    assert sorted(p.name for p in (path / "assets").iterdir()) == ["source_vocab.txt",
                                                                   "target_vocab.txt"]
    assert "Result for output key translation:" in out["saved_model_cli"]


@pytest.mark.parametrize("extra, lines, message", [
    ('dataset = "ptb"', None,
     "pairs.dataset must be set, or else pairs.file (one of the two). Received: "
     "pairs.dataset='ptb'"),
    ("", ["red cat\tROT KATZE\n", "no tab here\n"], ":2 must be 'source<TAB>target'. Received: "),
])
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path, extra, lines, message):
    result, run = _fit(tmp_path, extra, lines)
    assert result.exit_code == 2, result.output
    assert message in result.output and result.output.count("\n") == 1
    assert not run.exists()
