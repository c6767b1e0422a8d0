"""What a new user trips over (issue 40, part 5): paths relative to the pipeline file, one
validation loss, TensorFlow's log lines, the run's ETA, the tie error, ``list``."""

import csv
import dataclasses
import math
import os
import re
import subprocess
import sys
import typing
import unicodedata

import pytest
from click.testing import CliRunner

from rnn_pipeline import api
from rnn_pipeline.cli.main import cli
from rnn_pipeline.config.loader import load
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.progress import RunClock, clock_time
from rnn_pipeline.tasks import TASK_CONFIGS

NATIVE_LINE = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:|WARNING: All log messages before absl)",
                         re.MULTILINE)
SINE = """name = "sine"
task = "forecast"
[series]
csv = "sine.csv"
targets = ["y"]
lookback = 12
horizon = 3
[model]
units = 4
num_layers = 1
[train]
epochs = 1
batch_size = 16
"""


def _path_keys(cls, prefix=""):
    hints, keys = typing.get_type_hints(cls), set()
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            keys |= _path_keys(hints[f.name], f"{prefix}{f.name}.")
        elif f.metadata.get("path"):
            keys.add(f"{prefix}{f.name}")
    return keys


def test_every_file_key_is_a_path_key_resolved_against_the_pipeline_file(tmp_path,
                                                                           monkeypatch):
    keys = {task: _path_keys(TASK_CONFIGS.get(task)) for task in TASK_CONFIGS.names()}
    assert keys == {
        "causal_lm": {"data.train", "data.valid", "data.test", "embeddings.file"},
        "forecast": {"series.csv"},
        "speech": {"speech.files", "speech.manifest"},
        "tagging": {"data.train", "data.valid", "data.test", "embeddings.file"},
        "translation": {"pairs.file"}}
    work = tmp_path / "mywork"
    work.mkdir()
    pipeline = work / "tagger.toml"
    pipeline.write_text('task = "tagging"\n[data]\ntrain = ["conll/*.txt", "/abs/a.txt"]\n'
                        'test = ["../up.txt"]\n[embeddings]\nfile = "vectors.txt"\n')
    config = load(pipeline)
    assert config.data.train == [f"{work}/conll/*.txt", "/abs/a.txt"]
    assert config.data.test == [f"{tmp_path}/up.txt"]
    assert config.embeddings.file == f"{work}/vectors.txt"
    monkeypatch.chdir(tmp_path)  # --set: relative to the current folder, like a CLI path
    _, config = api.pipeline_config(str(pipeline), ["embeddings.file=here.txt"])
    assert config.embeddings.file == f"{tmp_path}/here.txt"
    assert config.data.train[0] == f"{work}/conll/*.txt"


def test_a_pipeline_beside_its_csv_reads_it_from_another_folder_and_saves_it_absolute(
        tmp_path, monkeypatch):
    work = tmp_path / "mywork"
    work.mkdir()
    (work / "sine.toml").write_text(SINE)
    monkeypatch.chdir(tmp_path)
    missing = CliRunner().invoke(cli, ["fit", "mywork/sine.toml", "--run-dir", "run"])
    assert missing.exit_code == 2
    assert f"Received: series.csv='{work}/sine.csv'" in missing.output  # the path tried
    rows = [f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00:00,{math.sin(i / 4):.4f}"
            for i in range(240)]
    (work / "sine.csv").write_text("date,y\n" + "\n".join(rows) + "\n")
    # The resolved config, as fit saves it next to the weights (fit --print-config prints
    # it without training): the path is absolute, so it reads from any folder.
    printed = CliRunner().invoke(cli, ["fit", "mywork/sine.toml", "--print-config"])
    assert printed.exit_code == 0, printed.output
    assert f'csv = "{work}/sine.csv"' in printed.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.toml").write_text(printed.output)
    monkeypatch.chdir(elsewhere)
    again = CliRunner().invoke(cli, ["fit", "config.toml", "--print-config"])
    assert again.exit_code == 0 and again.output == printed.output, again.output


def test_the_screen_and_metrics_csv_show_one_validation_loss(tmp_path_factory):
    from conftest import _fit_tiny_lm, shared_fit

    result, run = shared_fit(tmp_path_factory, "fitted_lm", _fit_tiny_lm)
    shown = [float(v) for v in re.findall(r" val_loss: ([0-9.]+)", result.output)]
    with open(run / "metrics.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(shown) == len(rows) >= 1
    for value, row in zip(shown, rows):
        assert value == pytest.approx(float(row["valid_loss"]), abs=1e-4)
        assert float(row["valid_loss"]) == pytest.approx(
            math.log(float(row["valid_perplexity"])), abs=1e-6)


def _stderr_of(code, *args, **env):
    environment = {**os.environ, **env}
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                         text=True, env=environment, timeout=300)
    return out


def test_the_readme_snippet_imports_and_generates_without_tensorflow_lines(fitted_lm_run):
    code = ("import sys\n"
            "import rnn_pipeline.tasks.causal_lm.model\n"
            "import keras\n"
            "model = keras.models.load_model(sys.argv[1])\n"
            "print(model.generate(['the cat'], max_tokens=3, seed=0)[0])\n")
    out = _stderr_of(code, fitted_lm_run / "model.keras")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("the cat")
    assert not NATIVE_LINE.search(out.stderr), out.stderr


NOISY_COMMAND = """
import sys
import click
from rnn_pipeline.cli.main import cli


@cli.command("noisy")
def noisy():
    import tensorflow as tf
    iterator = iter(tf.data.Dataset.range(10).cache())
    next(iterator)
    del iterator  # tf.data's C++ warning: "did not fully read the dataset being cached"
    click.echo("done")
    raise RuntimeError("a Python error")


cli(["noisy"])
"""


@pytest.mark.slow  # 20 s on 2 cores: the slow suite runs it
def test_a_command_prints_no_tensorflow_lines_but_python_errors(fitted_lm_run):
    out = _stderr_of(NOISY_COMMAND, TF_CPP_MIN_LOG_LEVEL="0")  # TensorFlow logs all
    assert out.stdout == "done\n"
    assert not NATIVE_LINE.search(out.stderr), out.stderr
    assert out.stderr.rstrip().endswith("RuntimeError: a Python error")
    shown = _stderr_of(NOISY_COMMAND, TF_CPP_MIN_LOG_LEVEL="0", RNN_PIPELINE_TF_LOGS="1")
    assert "cache_dataset_ops" in shown.stderr  # asked for: every line
    generate = _stderr_of("from rnn_pipeline.cli.main import cli; cli()", "generate",
                          fitted_lm_run, "--prompt", "the cat", "--max-tokens", "3",
                          TF_CPP_MIN_LOG_LEVEL="0")
    assert generate.returncode == 0 and generate.stdout.startswith("the cat")
    assert generate.stderr == ""


def test_the_run_clock_estimates_the_part_and_the_whole_run():
    now = [0.0]
    clock = RunClock(3, clock=lambda: now[0])
    clock.begin(0)
    for done in range(1, 11):  # a slow first step (tracing), then 1 s a step
        now[0] += 5.0 if done == 1 else 1.0
        clock.step(done)
    now[0] += 2.0  # validation and checkpoint
    clock.begin(1)
    assert clock.left_at_begin(10) == pytest.approx(2 * (10 * 1.0 + 2.0))
    for done in range(1, 5):
        now[0] += 1.0
        clock.step(done)
    part, run = clock.left(4, 10)
    assert part == pytest.approx(6 * 1.0 + 2.0) and run == pytest.approx(8.0 + 12.0)
    assert (clock_time(20), clock_time(3725)) == ("0:20", "1:02:05")


def test_diagnose_prints_progress_while_a_cell_trains(tmp_path, tiny_corpus):
    from conftest import tiny_config

    from rnn_pipeline.workflows.diagnose import diagnose

    lines = []
    diagnose(tiny_config(tiny_corpus), tmp_path / "out", ["gru", "lstm"], steps=4, batch=2,
             train_steps=10, log=lines.append)
    training = [line for line in lines if " training step " in line]
    assert [line.split(" step ")[0] for line in training] == ["gru training"] * 9 + [
        "lstm training"] * 9
    assert all(re.search(r"diagnosis ETA \d+:\d\d$", line) for line in training)


def test_the_diagnose_help_example_works_and_the_tie_error_names_both_fixes():
    help_text = " ".join(CliRunner().invoke(cli, ["diagnose", "--help"]).output.split())
    example = re.search(r"e\.g\. ((?:--set \S+ ?)+)", help_text).group(1).split()[1::2]
    _, config = api.pipeline_config("default", example)  # the default pipeline takes it
    assert config.model.tied()
    with pytest.raises(PipelineError) as info:
        api.pipeline_config("default", ["model.units=64"])
    assert ("set model.embedding_dim = 64 (the units), or model.tie_weights = false"
            in str(info.value)) and "embedding_dim=200 and units=64" in str(info.value)


def _columns(line):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_list_wraps_whole_descriptions_and_names_the_task_of_each_key():
    from rnn_pipeline.config.bundled import bundled_names, resolve_pipeline

    result = CliRunner().invoke(cli, ["list"], env={"COLUMNS": "70"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert max(_columns(line) for line in result.output.splitlines()) <= 70
    flat = " ".join(result.output.split())
    for name in bundled_names():
        description = " ".join(api.pipeline_description(resolve_pipeline(name)).split())
        assert description.replace(" ", "") in flat.replace(" ", "")  # whole, if wrapped
    heads = re.findall(r"model\.head \[(\w+)\]", flat)
    assert sorted(heads) == ["causal_lm", "forecast", "speech", "tagging"]
    assert "model.cell gru, lstm, simple_rnn" in flat  # every task's: no task named
