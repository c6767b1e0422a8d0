"""Checkpoints and ``rnn-pipeline fit --resume``: a run killed (SIGKILL, during a checkpoint
write, SIGTERM) and resumed ends exactly where the same run without a break ends."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from conftest import TINY_PIPELINE, write_tiny_corpus
from rnn_pipeline.cli.main import cli
from test_pinned_results import FORECAST, TRANSLATION
from tests_support import PAIRS

# Runs the CLI with deterministic ops; KILL_AT makes the process stop itself right after
# (or during) the first checkpoint written within epoch 2 (a test hook, not a feature).
# FIRST, a JSON list of arguments, is a command run to its end before, in this process,
# which the hook leaves alone.
DRIVER = textwrap.dedent("""
    import json, os, signal, sys
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
    from rnn_pipeline.training.checkpoints import Checkpoints
    KILL_AT = os.environ.get("KILL_AT")
    save, write_sidecar = Checkpoints.save, Checkpoints.write_sidecar
    sent, armed = [], []

    def in_epoch_2(position):
        return bool(armed) and position["epoch"] == 1 and position["step"] > 0

    def patched_save(self, position, callbacks):
        save(self, position, callbacks)
        if in_epoch_2(vars(position)) and KILL_AT in ("kill", "term") and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGKILL if KILL_AT == "kill" else signal.SIGTERM)

    def patched_sidecar(self, path, sidecar):
        if in_epoch_2(sidecar["position"]) and KILL_AT == "write":
            os.kill(os.getpid(), signal.SIGKILL)  # TensorFlow's files are written, not this
        write_sidecar(self, path, sidecar)

    Checkpoints.save, Checkpoints.write_sidecar = patched_save, patched_sidecar
    from rnn_pipeline.cli.main import cli
    if os.environ.get("FIRST"):
        try:
            cli(json.loads(os.environ["FIRST"]))
        except SystemExit as stop:
            if stop.code:
                raise
    armed.append(True)
    cli(sys.argv[1:])
""")


def run_cli(folder, *args, kill_at=None, first=None):
    env = {k: v for k, v in os.environ.items() if k not in ("KILL_AT", "FIRST")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", **({"KILL_AT": kill_at} if kill_at else {}),
               **({"FIRST": json.dumps(first)} if first else {}))
    return subprocess.run([sys.executable, "-c", DRIVER, *map(str, args)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def figures(run):
    """Every per-epoch figure (not the seconds) and the final figures of a run."""
    metrics = json.loads((run / "metrics.json").read_text())
    rows = [{k: v for k, v in row.items() if k != "seconds"} for row in metrics["epochs"]]
    final = metrics["final"]
    if isinstance(final, dict):
        final = {k: v for k, v in final.items() if not k.endswith("seconds")}
    return rows, final


def assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isfinite(a):
        assert b == pytest.approx(a, rel=1e-4)
    else:
        assert a == b


def pipelines(folder):
    """Tiny pipelines of the three tasks, each with a checkpoint inside epoch 2."""
    lm = TINY_PIPELINE.format(**write_tiny_corpus(folder)).replace(
        "epochs = 1", "epochs = 2\ncheckpoint_every = 5").replace(
        "num_layers = 1", "num_layers = 2\ndropout = 0.1")
    rows = ["t,y,x"] + [f"{1950 + i // 12}-{i % 12 + 1:02d},{100 + i + 20 * math.sin(i / 2):.3f},"
                        f"{math.cos(i / 2):.3f}" for i in range(144)]
    (folder / "s.csv").write_text("\n".join(rows) + "\n")
    forecast = FORECAST.format(csv=(folder / "s.csv").as_posix(), head="direct", layers=1) \
        .replace("epochs = 2", "epochs = 2\ncheckpoint_every = 2")
    (folder / "pairs.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in PAIRS))
    translation = TRANSLATION.format(file=(folder / "pairs.tsv").as_posix()).replace(
        "epochs = 2", "epochs = 2\ncheckpoint_every = 3").replace("batch_size = 8",
                                                                   "batch_size = 4")
    return {"causal_lm": lm, "forecast": forecast, "translation": translation}


@pytest.mark.parametrize("task, kill_at, code", [
    pytest.param("causal_lm", "term", 143,     # SIGTERM: checkpoint, one line, exit 143
                 marks=pytest.mark.slow),       # (32 s: the slow suite runs it)
    pytest.param("forecast", "write", -signal.SIGKILL,  # killed while writing one: the
                 marks=pytest.mark.slow),       # one before (33 s: the slow suite runs it)
    pytest.param("translation", "kill", -signal.SIGKILL,  # killed right after a checkpoint
                 marks=pytest.mark.slow),       # (60 s: the slow suite runs it)
])
def test_a_killed_run_resumes_to_the_figures_of_an_unbroken_run(tmp_path, monkeypatch, task,
                                                                kill_at, code):
    (tmp_path / "p.toml").write_text(pipelines(tmp_path)[task])
    # The unbroken run trains to its end first in the process that then trains the broken
    # one (one TensorFlow start less): if a fit left anything behind that changed the next
    # one, the figures below would differ. The resume has a fresh process of its own.
    broken = run_cli(tmp_path, "fit", "p.toml", "--run-dir", "broken", kill_at=kill_at,
                     first=["fit", "p.toml", "--run-dir", "unbroken"])
    assert (tmp_path / "unbroken" / "model.keras").is_file(), broken.stderr[-2000:]
    assert broken.returncode == code, broken.stderr[-2000:]
    assert not (tmp_path / "broken" / "model.keras").exists()
    with open(tmp_path / "broken" / "metrics.csv") as f:  # written after every epoch
        assert [row.split(",")[0] for row in f.read().splitlines()] == ["epoch", "1"]
    if kill_at == "term":
        last = broken.stderr.strip().splitlines()[-1]
        assert last.startswith("Stopped by SIGTERM in epoch 2 after step ")
        assert last.endswith("Continue with: rnn-pipeline fit --resume broken")
    monkeypatch.chdir(tmp_path)  # the refusal reads the run only: in this process, no import
    result = CliRunner().invoke(cli, ["evaluate", "broken"])
    assert result.exit_code == 2
    assert "the run did not finish (continue it with rnn-pipeline fit --resume broken)" \
        in result.output
    resumed = run_cli(tmp_path, "fit", "--resume", "broken")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming broken from ckpt-" in resumed.stdout
    assert_same(figures(tmp_path / "unbroken"), figures(tmp_path / "broken"))
    checkpoints = sorted(p.name for p in (tmp_path / "broken" / "checkpoints").glob("*.json"))
    assert len(checkpoints) == 3  # fitted_text.json and the last 2
    steps = sum(1 for _ in open(tmp_path / "broken" / "gradients.csv")) - 1
    assert steps == sum(1 for _ in open(tmp_path / "unbroken" / "gradients.csv")) - 1


def test_a_damaged_checkpoint_is_one_line_and_changes_nothing(fitted_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    data = sorted((run / "checkpoints").glob("ckpt-*.data-*"))[-1]
    data.write_bytes(data.read_bytes()[:-7])
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*")}
    result = CliRunner().invoke(cli, ["fit", "--resume", str(run), "--epochs", "3"])
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.startswith("Error: --resume needs a readable checkpoint, but ")
    assert str(data) in line and "is truncated or damaged" in line and "\n" not in line
    assert before == {p: p.stat().st_mtime_ns for p in run.rglob("*")}


@pytest.mark.parametrize("change, expected", [
    ("format", "has format 0: the run was made by an incompatible version of rnn-pipeline"),
    ("nothing", "--epochs must be more than the 1 epochs the run has trained, to extend it"),
    ("empty", "--resume must be a run folder with a checkpoint in checkpoints/"),
])
def test_resume_refuses_bad_runs_in_one_line(fitted_lm_run, tmp_path, change, expected):
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    sidecar = sorted((run / "checkpoints").glob("ckpt-*.json"))[-1]
    if change == "format":
        sidecar.write_text(sidecar.read_text().replace('"format": 1', '"format": 0'))
    if change == "empty":
        shutil.rmtree(run / "checkpoints")
    args = ["fit", "--resume", str(run)] + (["--epochs", "2"] if change != "nothing" else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert expected in result.output and len(result.output.strip().splitlines()) == 1


def test_resume_of_a_folder_that_is_not_a_run_is_one_line_and_writes_nothing(tmp_path):
    folder = tmp_path / "not_a_run"
    folder.mkdir()
    result = CliRunner().invoke(cli, ["fit", "--resume", str(folder)])
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: --resume must be a run folder containing "
                                     f"config.toml. Received: --resume='{folder}'")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("args, expected", [
    (["--set", "model.units=8"], "--set cannot change model.units when resuming"),
    (["--set", "train.batch_size=4"], "--set cannot change train.batch_size when resuming"),
    (["--run-dir", "x"], "--resume continues a run with its own config: it takes no "
                         "PIPELINE, --run-dir or --print-config"),
])
def test_resume_refuses_changes_to_the_model_or_data(fitted_lm_run, args, expected):
    result = CliRunner().invoke(cli, ["fit", "--resume", str(fitted_lm_run), *args])
    assert result.exit_code == 2 and expected in result.output


def test_resume_extends_a_finished_run_with_its_own_tokenizer_and_vocabulary(
        fitted_lm_run, tmp_path, monkeypatch):
    from rnn_pipeline.tasks.causal_lm import workflow as language_model

    def no_refit(*args, **kwargs):
        raise AssertionError("a resumed run fitted its tokenizer and vocabulary again")

    monkeypatch.setattr(language_model, "fit_text", no_refit)
    run = tmp_path / "run"
    shutil.copytree(fitted_lm_run, run)
    vocabulary = (run / "vocab.txt").read_text()
    result = CliRunner().invoke(cli, ["fit", "--resume", str(run), "--epochs", "2"])
    assert result.exit_code == 0, result.output
    assert "Resuming" in result.output and "epoch 2 of 2, after step 0 of it" in result.output
    rows = json.loads((run / "metrics.json").read_text())["epochs"]
    assert [row["epoch"] for row in rows] == [1, 2]
    assert "epochs = 2" in (run / "config.toml").read_text()
    assert (run / "vocab.txt").read_text() == vocabulary
    assert len(list((run / "tensorboard" / "train").iterdir())) == 2  # one more event file


def test_a_frozen_embedding_thaws_when_a_run_resumes_after_its_frozen_epochs():
    from rnn_pipeline.training.freezing import FrozenForEpochs
    from tests_support import tiny_lm

    model = tiny_lm()
    model.compile()
    layer = model.backbone.token_embedding
    callback = FrozenForEpochs(layer, epochs=2)
    callback.set_model(model)
    callback.on_train_begin()
    assert not layer.trainable
    callback.on_epoch_begin(3)  # the first epoch of a run resumed in epoch 4
    assert layer.trainable
