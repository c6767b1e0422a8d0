"""The click CLI: help, fit/evaluate, and one-line errors with exit code 2."""

import json

import pytest
from click.testing import CliRunner

from conftest import TINY_PIPELINE, _fit_tiny_lm, shared_fit
from rnn_pipeline.cli.main import cli
from rnn_pipeline.generation.samplers import SAMPLERS

@pytest.fixture
def pipeline_file(tiny_corpus, tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_PIPELINE.format(**tiny_corpus))
    return path


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("command, text", [([], "Commands:"), (["fit"], "--set KEY.PATH=VALUE"),
                                           (["evaluate"], "--split [train|valid|test]")])
def test_help(command, text):
    result = _run(*command, "--help")
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ") and text in result.output


def test_fit_then_evaluate(tmp_path_factory, tmp_path):
    import shutil

    # The session's tiny fit through this CLI (`fitted_lm_run`), its output kept: a fit of
    # this test's own would only repeat it (--set on fit: test_adaptive_softmax's fit).
    result, fitted = shared_fit(tmp_path_factory, "fitted_lm", _fit_tiny_lm)
    assert "valid perplexity" in result.output and "unigram" in result.output
    assert f"-> run folder {fitted}" in result.output
    assert (fitted / "model.keras").is_file() and (fitted / "config.toml").is_file()
    run_dir = tmp_path / "run"
    shutil.copytree(fitted, run_dir)  # evaluate writes run/evaluation/
    result = _run("evaluate", run_dir, "--split", "valid")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    saved = run_dir / "evaluation" / "valid.json"
    assert lines[-2].startswith("valid perplexity ") and lines[-1] == f"Saved {saved}"
    figures = json.loads(saved.read_text())  # what was printed, saved
    assert figures["split"] == "valid" and figures["parallel_streams"] == 2
    assert lines[-2] == (f"valid perplexity {figures['perplexity']:.2f} (loss "
                         f"{figures['loss']:.4f} nats/token over {figures['tokens']:,} "
                         f"tokens, 2 parallel streams)")
    assert list((run_dir / "evaluation").iterdir()) == [saved]  # no plot, no partial file


def _assert_one_line_error(result, expected, tmp_path):
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"Error: {expected}"] or (len(lines) == 1 and expected in lines[0]), lines
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("override, expected", [
    ("model.cel=gru", "--set: Unknown config key 'model.cel'. Did you mean 'model.cell'?"),
    ("train.epochs=ten", "--set: train.epochs must be an integer. Received: train.epochs='ten'"),
    ("model.bidirectional=true", "model.bidirectional must be false for a causal language model"),
    ("model.cell=transformer", "model.cell must be one of: 'gru', 'lstm', 'simple_rnn'. "
                               "Received: model.cell='transformer'"),
])
def test_bad_values_are_one_line_with_exit_code_2(pipeline_file, tmp_path, override, expected):
    result = _run("fit", pipeline_file, "--run-dir", tmp_path / "run", "--set", override)
    _assert_one_line_error(result, expected, tmp_path)


def test_unknown_key_in_the_file_names_the_file(pipeline_file, tmp_path):
    pipeline_file.write_text(pipeline_file.read_text().replace("units = 4", "unit = 4"))
    result = _run("fit", pipeline_file, "--run-dir", tmp_path / "run")
    _assert_one_line_error(result, f"{pipeline_file}: Unknown config key 'model.unit'. "
                                   f"Did you mean 'model.units'?", tmp_path)


def test_missing_files_are_named(pipeline_file, tmp_path):
    result = _run("fit", tmp_path / "nope.toml", "--run-dir", tmp_path / "run")
    _assert_one_line_error(result, "PIPELINE must be an existing file or a bundled pipeline",
                           tmp_path)
    result = _run("fit", pipeline_file, "--run-dir", tmp_path / "run", "--set",
                  f"data.train=['{tmp_path / 'missing*.txt'}']")
    _assert_one_line_error(result, f"data.train must name existing files (paths or globs). "
                                   f"Received: data.train='{tmp_path / 'missing*.txt'}'",
                           tmp_path)


def test_undecodable_corpus_is_one_line(pipeline_file, tmp_path, tiny_corpus):
    bad = tmp_path / "sjis.txt"
    bad.write_bytes("猫が寝た\n".encode("shift_jis"))
    result = _run("fit", pipeline_file, "--run-dir", tmp_path / "run", "--set",
                  f"data.train=['{bad}']")
    _assert_one_line_error(result, f"{bad}: cannot decode byte offset 0", tmp_path)


def test_evaluate_needs_a_run_folder(tmp_path):
    result = _run("evaluate", tmp_path)
    _assert_one_line_error(result, "RUN must be a run folder containing config.toml", tmp_path)


def test_existing_run_folder_is_refused_before_training(pipeline_file, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("mine")
    result = _run("fit", pipeline_file, "--run-dir", tmp_path / "run")
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: --run-dir must be a new or empty folder. "
                                     f"Received: --run-dir='{tmp_path / 'run'}'")
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["keep.txt"]


@pytest.mark.slow  # 9 s; test_every_command runs the installed entry point on 2 cores: the slow suite runs it
def test_installed_command_prints_only_the_error_line(tmp_path):
    """Refusals of the installed command, one fresh process for both (each start imports
    TensorFlow): a setting refused while the config is read (TensorFlow starts there: its
    start-up lines hidden), then one refused after the data went through TensorFlow ops (no
    C++ log line, such as oneDNN's error about int64 on some CPUs, before the one ``Error:``
    line)."""
    from conftest import write_tiny_corpus
    from tests_support import installed_commands

    pipeline = tmp_path / "tiny.toml"
    pipeline.write_text(TINY_PIPELINE.format(**write_tiny_corpus(tmp_path)))
    done = installed_commands({
        "setting": ["fit", "--run-dir", tmp_path / "run", "--set", "model.bidirectional=true"],
        "after ops": ["fit", pipeline, "--run-dir", tmp_path / "run", "--set",
                      "train.batch_size=1000000"]}, cwd=tmp_path)
    for name, expected in (("setting", "Error: model.bidirectional must be false"),
                           ("after ops", "Error: train.batch_size must leave at least 4 steps")):
        code, out, err = done[name]
        assert code == 2 and out == "", (name, out, err)
        assert err.splitlines() == [err.strip()], (name, err)  # TF's own lines hidden
        assert err.startswith(expected), (name, err)
    assert not (tmp_path / "run").exists()


def test_generate_warns_about_out_of_vocabulary_prompt_words(fitted_lm_run):
    # Batched prompts and seeds through the CLI: test_every_sampler_generates_from_a_fitted_run.
    oov = _run("generate", fitted_lm_run, "--prompt", "the zebra", "--max-tokens", 2)
    assert oov.exit_code == 0, oov.output
    assert "Warning: Out-of-vocabulary prompt words become <unk>: 'zebra'" in oov.output


def _texts(output):
    """The generated texts of `rnn-pipeline generate` with several prompts."""
    blocks = output.split("--- ")[1:]
    return [block.split(" ---\n", 1)[1].rstrip("\n") for block in blocks]


@pytest.mark.parametrize("sampler", [  # the ones that draw (5-7 s each): -m slow
    name if name in ("greedy", "beam") else pytest.param(name, marks=pytest.mark.slow)
    for name in SAMPLERS.names()])
def test_every_sampler_generates_from_a_fitted_run(fitted_lm_run, sampler):
    prompts = ["generate", fitted_lm_run, "--prompt", "the cat", "--prompt", "a",
               "--max-tokens", 4]
    args = [*prompts, "--sampler", sampler, "--top-k", 3, "--num-beams", 3, "--seed", 2]
    result = _run(*args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "--- 1 ---" and lines[1].startswith("the cat")
    assert lines[lines.index("--- 2 ---") + 1].startswith("a")
    texts = _texts(result.output)
    assert [t.split()[:len(p.split())] for t, p in zip(texts, ["the cat", "a"])] == \
        [["the", "cat"], ["a"]]
    assert [len(t.split()) for t in texts] == [2 + 4, 1 + 4]  # no --stop-at-eos: 4 tokens each
    if sampler == "greedy":  # beam search with one beam is greedy, through the CLI too
        beam = _run(*prompts, "--sampler", "beam", "--num-beams", 1)
        assert beam.exit_code == 0 and beam.output == result.output, beam.output
    elif sampler != "beam":  # the samplers that draw: the same seed gives the same text
        assert _run(*args).output == result.output


@pytest.mark.parametrize("damage, expected", [
    ("missing", "RUN must hold a trained model.keras, but it is missing: the run did not "
                "finish (continue it with rnn-pipeline fit --resume {run}). Received: RUN="),
    ("never_saved", "RUN must hold a trained model.keras, but it is missing: the run did not "
                    "finish (train it again with rnn-pipeline fit). Received: RUN="),
    ("truncated", "RUN must hold a readable model.keras, but {model} is truncated or damaged "
                  "(train it again with rnn-pipeline fit). Received: RUN="),
])
def test_a_run_without_a_whole_model_is_one_line_for_every_command(fitted_lm_run, tmp_path,
                                                                   damage, expected):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    model = run / "model.keras"
    if damage == "never_saved":  # killed before its first checkpoint
        shutil.rmtree(run / "checkpoints")
    if damage in ("missing", "never_saved"):
        model.unlink()
    else:
        model.write_bytes(model.read_bytes()[:model.stat().st_size // 2])
    for command in (["evaluate", run], ["generate", run, "--prompt", "the"],
                    ["export", run, "--base", tmp_path / "saved_models"]):
        result = _run(*command)
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [
            f"Error: {expected.format(model=model, run=run)}'{run}'"], command
    assert not (tmp_path / "saved_models").exists()


def test_a_run_config_that_is_not_utf8_is_one_line(fitted_lm_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    config = run / "config.toml"
    config.write_bytes(config.read_bytes() + "# 猫\n".encode("shift_jis"))
    result = _run("evaluate", run)
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {config} must be UTF-8 text (TOML files are "
                                    f"UTF-8); byte offset ")


@pytest.mark.parametrize("option, value", [("--temperature", "nan"), ("--temperature", "inf"),
                                           ("--top-p", "nan")])
def test_non_finite_generation_options_are_refused(fitted_lm_run, option, value):
    result = _run("generate", fitted_lm_run, option, value)
    assert result.exit_code == 2
    assert f"Error: Invalid value for '{option}': {value} is not a finite number." in \
        result.output


def test_an_empty_pipeline_file_is_refused(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    result = _run("fit", empty, "--run-dir", tmp_path / "run")
    _assert_one_line_error(result, f"{empty} has no settings: an empty pipeline would train "
                                   f"the schema's defaults, not the bundled 'default' pipeline.",
                           tmp_path)


def test_evaluate_reads_a_split_as_one_stream_with_batch_size_1(fitted_lm_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)  # evaluate writes run/evaluation/
    one = _run("evaluate", run, "--split", "test", "--batch-size", 1)
    assert one.exit_code == 0, one.output
    assert one.output.strip().splitlines()[0].endswith("tokens, 1 parallel stream)")
    saved = json.loads((run / "evaluation" / "test.json").read_text())
    assert saved["parallel_streams"] == 1
    default = _run("evaluate", run, "--split", "test")
    assert default.output.strip().splitlines()[0].endswith("tokens, 2 parallel streams)")
    again = json.loads((run / "evaluation" / "test.json").read_text())  # replaced whole
    assert again["parallel_streams"] == 2 and again["tokens"] == saved["tokens"]
    assert again["perplexity"] != saved["perplexity"]
