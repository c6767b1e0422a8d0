"""The bad-input suite, commands and run folders: every case of issue 35's table that is
about options, paths, names, resources or a run in use is one ``Error: ...`` line, exit 2
(1 for a fault during training), with nothing half-written."""

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import TINY_PIPELINE, write_tiny_corpus
from rnn_pipeline.cli.main import cli
from rnn_pipeline.limits import MAX_GENERATED_TOKENS, MAX_SEED
from tests_support import assert_one_line_error, files_under


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def pipeline(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_PIPELINE.format(**write_tiny_corpus(tmp_path)))
    return path


@contextlib.contextmanager
def read_only(folder):
    """``folder`` made unwritable for this process: chmod for a user, the immutable
    attribute for root (whom permissions do not stop); skips where neither works."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(
            ["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("root cannot make a folder read-only here (no chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


# --- options: each bound is one line -------------------------------------------------
@pytest.mark.parametrize("options, expected", [
    (["--max-tokens", "1000000000"], f"'--max-tokens': 1000000000 is not in the range "
                                     f"1<=x<={MAX_GENERATED_TOKENS}"),
    (["--max-tokens", "0"], "'--max-tokens': 0 is not in the range"),
    (["--seed", "4294967297"], f"'--seed': 4294967297 is not in the range 0<=x<={MAX_SEED}"),
    (["--temperature", "0"], "'--temperature': 0.0 is not in the range x>0"),
    (["--top-p", "1.5"], "'--top-p': 1.5 is not in the range"),
    (["--num-beams", "0"], "'--num-beams': 0 is not in the range 1<=x<=256"),
    (["--num-beams", "1000000000"], "'--num-beams': 1000000000 is not in the range 1<=x<=256"),
    (["--top-k", "100000000000000000000"], "'--top-k': 100000000000000000000 is not in the "
                                           "range 1<=x<=2147483647"),
    (["--sampler", "nucleus"], "'--sampler': 'nucleus' is not one of 'beam', 'greedy'"),
])
def test_generation_options_out_of_range(fitted_lm_run, options, expected):
    result = _run("generate", fitted_lm_run, "--prompt", "the", *options)
    assert_one_line_error(result, expected)
    assert "(see: cli generate --help)" in result.output


@pytest.mark.parametrize("options, expected", [
    (["--version", "99999999999999999999"], "'--version': 99999999999999999999 is not in "
                                            "the range 1<=x<=9223372036854775807"),
    (["--max-tokens-limit", "1000000000000"], "'--max-tokens-limit': 1000000000000 is not in "
                                              "the range 1<=x<=10000"),
])
def test_export_numbers_out_of_range(fitted_lm_run, tmp_path, options, expected):
    result = _run("export", fitted_lm_run, "--base", tmp_path / "exports", *options)
    assert_one_line_error(result, expected, absent=[tmp_path / "exports"])


@pytest.mark.parametrize("args, expected", [
    (["fit", "--local-workers", "0"], "'--local-workers': 0 is not in the range x>=1"),
    (["serve", "--port", "70000"], "'--port': 70000 is not in the range 0<=x<=65535"),
    (["evaluate", "{file}"], "'RUN': Directory '{file}' is a file."),
    (["fit", "--epochs", "ten"], "'--epochs': 'ten' is not a valid integer"),
    (["fit", "--no-such-option"], "No such option '--no-such-option'."),
])
def test_click_usage_errors_are_one_line(tmp_path, args, expected):
    afile = tmp_path / "a.txt"
    afile.write_text("x")
    result = _run(*[a.format(file=afile) for a in args])
    assert_one_line_error(result, expected.format(file=afile))


# --- names and paths -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../escaped", "exp/v2", "x" * 300, "-dash"])
def test_run_names_that_are_not_one_folder_name_are_refused(pipeline, tmp_path, name):
    result = _run("fit", pipeline, "--set", f'name="{name}"')
    assert_one_line_error(result, "name must be 1-64 letters, digits, '_', '.' or '-', "
                                  "starting with a letter or digit")
    assert not (tmp_path / "escaped").exists() and not (pipeline.parent / "runs").exists()


def test_run_dir_inside_a_file_is_refused(pipeline, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    result = _run("fit", pipeline, "--run-dir", afile / "run")
    assert_one_line_error(result, f"--run-dir must be a folder path, but {afile} is a file, "
                                  f"not a folder")


def test_run_dir_with_a_name_too_long_for_the_file_system(pipeline, tmp_path):
    run = tmp_path / ("r" * 300) / "run"
    result = _run("fit", pipeline, "--run-dir", run)
    assert_one_line_error(result, "--run-dir must have names of at most 255 bytes",
                          absent=[tmp_path / ("r" * 300)])


def test_run_dir_and_export_base_under_a_read_only_folder(pipeline, fitted_lm_run, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    with read_only(locked):
        fit = _run("fit", pipeline, "--run-dir", locked / "run")
        export = _run("export", fitted_lm_run, "--base", locked / "exports")
    assert_one_line_error(fit, f"--run-dir must be writable, but {locked} is not writable")
    assert_one_line_error(export, f"--base must be writable, but {locked} is not writable")
    assert files_under(locked) == []


def test_resume_of_a_read_only_run_is_refused_before_the_data_is_read(fitted_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    before = files_under(run)
    with read_only(run):
        result = _run("fit", "--resume", run, "--epochs", "9")
    assert_one_line_error(result, f"--resume must be writable, but {run} is not writable by "
                                  f"this user. Received: --resume='{run}'")
    assert files_under(run) == before


def test_export_version_taken_by_a_file(fitted_lm_run, tmp_path):
    model_dir = tmp_path / "exports" / "tiny"
    model_dir.mkdir(parents=True)
    (model_dir / "2").write_text("not a version")
    result = _run("export", fitted_lm_run, "--base", tmp_path / "exports", "--version", "2")
    assert_one_line_error(result, f"--version already exists in {model_dir} (a file or folder "
                                  f"of that name); versions are never overwritten (next free: 1)")
    assert files_under(model_dir) == ["2"]


@pytest.mark.slow  # 8 s on 2 cores: the slow suite runs it
def test_export_removes_the_leftovers_of_killed_exports_only(fitted_lm_run, tmp_path):
    # The run's name is no model name: this export is also the one that --name makes
    # (test_a_run_name_that_is_no_model_name_asks_for_export_name), one export for both.
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    config = run / "config.toml"
    config.write_text(config.read_text().replace('name = "tiny"', 'name = "猫の実験"'))
    model_dir = tmp_path / "exports" / "cat"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (model_dir / f".export-{dead}-abc123" / "variables").mkdir(parents=True)
    (model_dir / ".export-k3j4h5").mkdir()  # the earlier naming, no pid
    live = model_dir / f".export-{os.getpid()}-inflight"
    live.mkdir()
    result = _run("export", run, "--base", tmp_path / "exports", "--name", "cat")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in model_dir.iterdir()) == [live.name, "1"]
    assert (model_dir / "1" / "saved_model.pb").is_file()


def test_a_run_without_its_vocabulary_is_one_line(fitted_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    (run / "vocab.txt").unlink()
    result = _run("generate", run, "--prompt", "the")
    assert_one_line_error(result, "RUN must hold its vocabulary vocab.txt, but it is missing")


def test_a_run_with_an_empty_vocabulary_is_one_line(fitted_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    (run / "vocab.txt").write_text("")
    result = _run("generate", run, "--prompt", "the")
    assert_one_line_error(result, "RUN must hold a readable vocabulary vocab.txt (UTF-8, one "
                                  "token per line, <unk> and <eos> first), but it is empty or "
                                  "damaged")


def test_a_translation_run_without_a_vocabulary_is_one_line(fitted_translation, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_translation[1], run)
    (run / "source_vocab.txt").unlink()
    result = _run("translate", run, "--text", "red cat runs")
    assert_one_line_error(result, "RUN must hold its vocabulary source_vocab.txt, but it is "
                                  "missing")


def test_a_config_edited_after_training_is_refused(fitted_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    config = run / "config.toml"
    layers = next(line for line in config.read_text().splitlines()
                  if line.startswith("num_layers"))
    config.write_text(config.read_text().replace(layers, "num_layers = 3"))
    result = _run("generate", run, "--prompt", "the")
    assert_one_line_error(result, "RUN config.toml must describe the model model.keras was "
                                  f"trained with, but it says model.num_layers = 3 where "
                                  f"training had {int(layers.split('=')[1])} (undo the edit")
    config.write_text(config.read_text().replace("num_layers = 3", layers))
    assert _run("generate", run, "--prompt", "the").exit_code == 0  # undone: it reads


def test_a_run_name_that_is_no_model_name_asks_for_export_name(fitted_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    config = run / "config.toml"
    config.write_text(config.read_text().replace('name = "tiny"', 'name = "猫の実験"'))
    result = _run("export", run, "--base", tmp_path / "exports")
    assert_one_line_error(result, "name must be ASCII letters, digits, '_', '.' or '-', "
                                  "starting with a letter or digit, to name a model in TF "
                                  "Serving; give export a --name. Received: name='猫の実験'",
                          absent=[tmp_path / "exports"])
    # With --name it exports: test_export_removes_the_leftovers_of_killed_exports_only.


def test_forecast_out_must_not_overwrite_its_input(fitted_forecast, tmp_path):
    from test_forecast_workflow import monthly_rows

    recent = tmp_path / "recent.csv"
    text = "\n".join(monthly_rows()[:40]) + "\n"
    recent.write_text(text)
    result = _run("forecast", fitted_forecast[1], "--input", recent, "--out", recent)
    assert_one_line_error(result, "--out must not be the --input file (it would be "
                                  "overwritten)")
    assert recent.read_text() == text


def test_embed_out_in_a_missing_folder_is_refused_before_training(pipeline, tmp_path):
    result = _run("embed", pipeline, "--out", tmp_path / "nodir" / "v.txt")
    assert_one_line_error(result, "--out must be a file in an existing folder")


# --- resources ---------------------------------------------------------------------------
@pytest.mark.parametrize("override, key", [
    ("model.units=1000000000", "model.units"),
    ("model.embedding_dim=100000000000", "model.embedding_dim"),
])
def test_a_model_that_cannot_fit_in_memory_is_refused_before_it_is_built(pipeline, tmp_path,
                                                                        override, key):
    result = _run("fit", pipeline, "--run-dir", tmp_path / "run", "--set", override,
                  "--set", "model.tie_weights=false")  # untied: the sizes may differ
    assert_one_line_error(result, f"{key} must be smaller: training needs about ",
                          absent=[tmp_path / "run"])
    assert "this machine can give it" in result.output


def test_evaluate_with_a_batch_that_cannot_fit_is_refused_before_it_is_built(fitted_lm_run):
    result = _run("evaluate", fitted_lm_run, "--batch-size", "100000000")
    assert_one_line_error(result, "--batch-size must be smaller: evaluating needs about ")
    assert "the logits of a batch of 100,000,000 x " in result.output


def test_evaluate_with_more_streams_than_tokens_is_refused(fitted_lm_run):
    result = _run("evaluate", fitted_lm_run, "--batch-size", "100000")
    assert_one_line_error(result, "--batch-size must be at most the ")
    assert "tokens of the test split (a stream per token at most). Received: " \
           "--batch-size=100000" in result.output


def test_diagnose_with_more_windows_than_the_text_has_is_refused(fitted_lm_run, tmp_path):
    out = tmp_path / "diag"
    result = _run("diagnose", fitted_lm_run, "--batch", "1000000000", "--out", out)
    assert_one_line_error(result, "--batch must be at most the ", absent=[out])
    assert "windows of --steps 50 tokens the training text has. Received: " \
           "--batch=1000000000" in result.output


def test_translate_refuses_an_empty_text(fitted_translation):
    result = _run("translate", fitted_translation[1], "--text", "")
    assert_one_line_error(result, "Invalid value for '--text': must not be empty (there is "
                                  "nothing to work on). Received: --text=''")


def test_the_estimate_names_the_largest_part():
    from rnn_pipeline.config import ModelConfig
    from rnn_pipeline.errors import PipelineError
    from rnn_pipeline.resources import check_memory, recurrent_parts, vocabulary_parts

    model = ModelConfig(cell="lstm", units=10, embedding_dim=10, num_layers=1)
    parts = [*recurrent_parts(model, 10, batch=2, steps=3),
             *vocabulary_parts(50, 10, 10, batch=2, steps=3)]
    # LSTM: 4 gates x (10 inputs + 10 units + 2 biases) x 10 units, four copies in training
    assert parts[0].numbers + parts[1].numbers == 4 * 4 * 22 * 10
    assert parts[1].numbers == 4 * 4 * 10 * 10  # the input kernel
    assert parts[2].numbers == 2 * 3 * 1 * 10 * 5  # batch x steps x layers x units x (gates+1)
    assert [p.numbers for p in parts[3:]] == [4 * 50 * 10, 4 * (10 * 50 + 50), 3 * 2 * 3 * 50]
    needed = sum(p.numbers for p in parts) * 4
    assert check_memory(parts, available=needed / 0.8) == needed
    with pytest.raises(PipelineError, match=r"^model\.units must be smaller: .*Received: "
                                            r"model\.units=10$"):
        check_memory(parts, available=needed / 0.8 - 1)


# --- a run in use, and a run that stops being writable ---------------------------------
def _hold_lock(run):
    """A live process holding ``run``'s training lock, as a training process does."""
    code = ("import fcntl, json, os, sys, time; f = open(sys.argv[1], 'a+'); "
            "fcntl.flock(f, fcntl.LOCK_EX); f.truncate(0); f.write(json.dumps({'pid': "
            "os.getpid(), 'host': 'h', 'started': 'then'})); f.flush(); print('held', "
            "flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(run / "train.lock")],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_run_being_trained_is_refused_by_every_command(fitted_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    holder = _hold_lock(run)
    try:
        commands = {"--resume": ["fit", "--resume", run, "--epochs", "3"],
                    "RUN": ["export", run, "--base", tmp_path / "exports"]}
        results = {argument: _run(*args) for argument, args in commands.items()}
        results["evaluate"] = _run("evaluate", run)
        results["generate"] = _run("generate", run, "--prompt", "the")
    finally:
        holder.kill()
        holder.wait()
    for argument, result in results.items():
        name = "--resume" if argument == "--resume" else "RUN"
        assert_one_line_error(result, f"{name} is being trained by process {holder.pid} on h, "
                                      f"since then", absent=[tmp_path / "exports"])


def test_evaluate_of_a_read_only_run_prints_the_figures_and_says_nothing_was_saved(
        fitted_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    with read_only(run):
        result = _run("evaluate", run)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("test perplexity ") and "Saved" not in result.stdout
    note = result.stderr.strip().splitlines()
    assert len(note) == 1 and note[0].startswith(
        f"Note: nothing was saved: {run / 'evaluation'} cannot be written (")
    assert not (run / "evaluation").exists()


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_note(fitted_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    (run / "train.lock").write_text('{"pid": 999999999, "host": "h", "started": "then"}')
    result = _run("fit", "--resume", run, "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert f"Note: {run / 'train.lock'} was left by process 999999999 on h, since then, " \
           f"which is no longer running; taking it over" in result.output
    assert not (run / "train.lock").exists()
    assert "Checkpoint ckpt-" in result.output and f"written (end of epoch 2) in {run}" in \
        result.output


def test_a_run_folder_that_becomes_read_only_stops_training_in_one_line(pipeline, tmp_path,
                                                                        monkeypatch):
    from rnn_pipeline.training.checkpoints import Checkpoints

    save, saved = Checkpoints.save, []

    def save_then_lock(self, position, callbacks):
        save(self, position, callbacks)
        saved.append(self.directory)
        stack.enter_context(read_only(self.directory))

    monkeypatch.setattr(Checkpoints, "save", save_then_lock)
    run = tmp_path / "run"
    with contextlib.ExitStack() as stack:
        result = _run("fit", pipeline, "--run-dir", run, "--set", "train.epochs=3")
    assert result.exit_code == 1, result.output
    open_files = [os.readlink(fd) for fd in Path("/proc/self/fd").iterdir()
                  if fd.is_symlink() and str(run) in os.readlink(fd)]
    assert open_files == []  # the gradient log is closed, though Keras skips on_train_end
    (kept,) = [p.stem for p in (run / "checkpoints").glob("ckpt-*.json")]
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: The run folder {run} cannot be written (") and last.endswith(
        f"training stopped; the last checkpoint ({kept}) is kept: make the folder writable "
        f"and continue with rnn-pipeline fit --resume {run}"), last
    assert len(saved) == 1 and f"Checkpoint {kept} written (end of epoch 1)" in result.output
    assert not (run / "train.lock").exists()


def test_local_workers_check_the_settings_before_starting_any(pipeline, tmp_path):
    result = _run("fit", pipeline, "--run-dir", tmp_path / "run", "--local-workers", "2",
                  "--set", "train.batch_size=3")
    assert_one_line_error(result, "train.batch_size must divide by the 2 replicas of "
                                  "train.strategy 'multi_worker'", absent=[tmp_path / "run"])


def test_a_model_key_added_since_training_is_taken_at_its_default(fitted_forecast,
                                                                   tmp_path):
    """A run trained before a ``[model]`` key existed has no record of it: the key's
    default is no edit, any other value is."""
    import dataclasses
    import json

    from rnn_pipeline.runs import RunFolder

    run = tmp_path / "run"
    shutil.copytree(fitted_forecast[1], run)
    folder = RunFolder(run)
    record = json.loads(folder.file(folder.TRAINED_WITH).read_text())
    del record["model"]["conformal"]  # as a run from before model.conformal recorded it
    folder.file(folder.TRAINED_WITH).write_text(json.dumps(record))
    config = folder.load_config()
    folder.check_trained_with(config)  # at its default: no error
    edited = dataclasses.replace(config, model=dataclasses.replace(config.model,
                                                                   conformal=True))
    with pytest.raises(ValueError, match="model.conformal = True where training had None"):
        folder.check_trained_with(edited)
