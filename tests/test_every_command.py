"""Every command that takes a RUN works on a run of every task in a fresh process: the
installed ``rnn-pipeline`` entry point, as a user runs it after ``fit`` has exited (so no
class is registered by the process that trained it), with nothing on stderr (no TensorFlow
start-up line, no library warning)."""

import json
import shutil
import subprocess

import pytest

from rnn_pipeline.config import TASK_CONFIGS
from rnn_pipeline.tasks import WORKFLOWS
from test_forecast_workflow import monthly_rows


def _lm_commands(run, out):
    return {"evaluate": ["evaluate", run],
            "generate": ["generate", run, "--prompt", "the cat", "--max-tokens", "3"],
            "neighbors": ["neighbors", run, "cat", "--k", "2"],
            "diagnose": ["diagnose", run, "--steps", "3", "--batch", "2", "--train-steps", "1",
                         "--out", out / "diagnostics"],
            "export": ["export", run, "--base", out / "saved_models"]}


def _translation_commands(run, out):
    return {"evaluate": ["evaluate", run],
            "translate": ["translate", run, "--text", "red cat runs"],
            "export": ["export", run, "--base", out / "saved_models"]}


def _forecast_commands(run, out):
    recent = out / "recent.csv"
    recent.write_text("\n".join(monthly_rows()[:40]) + "\n")
    return {"evaluate": ["evaluate", run],
            "forecast": ["forecast", run, "--input", recent, "--out", out / "f.csv"],
            "export": ["export", run, "--base", out / "saved_models"]}


def _tagging_commands(run, out):
    return {"evaluate": ["evaluate", run],
            "export": ["export", run, "--base", out / "saved_models"]}


# task -> (fixture of a fitted run, its commands); a new task must add its row.
COMMANDS = {"causal_lm": ("fitted_lm_run", _lm_commands),
            "translation": ("fitted_translation", _translation_commands),
            "forecast": ("fitted_forecast", _forecast_commands),
            "tagging": ("fitted_tagging", _tagging_commands)}


def test_every_task_has_its_commands_listed():
    assert sorted(COMMANDS) == sorted(TASK_CONFIGS.names())


@pytest.mark.parametrize("task", sorted(COMMANDS))
def test_every_command_runs_on_the_run_in_a_fresh_process(task, request, tmp_path):
    fixture, commands = COMMANDS[task]
    fitted = request.getfixturevalue(fixture)
    run = tmp_path / "run"  # a copy: evaluate writes run/evaluation/
    shutil.copytree(fitted[1] if isinstance(fitted, tuple) else fitted, run)
    entry = shutil.which("rnn-pipeline")
    assert entry, "the rnn-pipeline entry point is not installed"
    # The others only read the run, evaluate adds its own folder: they run side by side,
    # each its own process.
    started = {name: subprocess.Popen([entry, *map(str, args)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, cwd=tmp_path)
               for name, args in commands(run, tmp_path).items()}
    failed, printed = {}, {}
    for name, process in started.items():
        out, err = process.communicate(timeout=300)
        printed[name] = out
        if process.returncode != 0 or err:  # no TF start-up line or library warning either
            failed[name] = (process.returncode, (out + err)[-1500:])
    assert failed == {}
    saved = run / "evaluation" / "test.json"  # the figures printed, saved
    assert f"Saved {saved}\n" in printed["evaluate"]
    figures = json.loads(saved.read_text(encoding="utf-8"))
    lines = WORKFLOWS.get(task)(None).evaluation_lines("test", figures)
    assert figures and "\n".join(lines) in printed["evaluate"]
    assert any((tmp_path / "saved_models").rglob("saved_model.pb"))
