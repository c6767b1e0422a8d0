"""Every command that takes a RUN works on a run of every task in a fresh process: the
installed ``rnn-pipeline`` entry point, as a user runs it after ``fit`` has exited (so no
class is registered by the process that trained it), with nothing on stderr (no TensorFlow
start-up line, no library warning); the forecast command also on a Student-t run, whose
distribution classes must register themselves as well.

Every task's commands run one after the other in one fresh process (the entry point's
function, loaded from the installed console-script entry), each with its own exit status,
stdout and stderr: one TensorFlow import for all of them instead of one per task (~5 s
CPU each). That process never trains, and whichever task comes first, loading a run
imports every task's model classes (`RunFolder.load_model` calls `import_task_classes`),
so a process per task would prove nothing more about what a run needs to load."""

import json
import shutil

import pytest

from rnn_pipeline.config import TASK_CONFIGS
from rnn_pipeline.tasks import WORKFLOWS
from test_forecast_workflow import monthly_rows
from tests_support import dataset_paths, installed_commands


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


def _distribution_commands(run, out):
    recent = out / "recent_t.csv"
    recent.write_text("\n".join(monthly_rows()[:31]) + "\n")
    return {"forecast a distribution": ["forecast", run, "--input", recent,
                                        "--out", out / "t.csv"]}


def _tagging_commands(run, out):
    return {"evaluate": ["evaluate", run],
            "tag": ["tag", run, "--text", "Peter said no"],
            "export": ["export", run, "--base", out / "saved_models"]}


def _speech_commands(run, out):
    recordings = dataset_paths("fsdd")["recordings"]
    return {"evaluate": ["evaluate", run],
            "transcribe": ["transcribe", run, recordings / "0_theo_4.wav"],
            "export": ["export", run, "--base", out / "saved_models"]}


# task -> (fixture of a fitted run, its commands); a new task must add its row.
COMMANDS = {"causal_lm": ("fitted_lm_run", _lm_commands),
            "translation": ("fitted_translation", _translation_commands),
            "forecast": ("fitted_forecast", _forecast_commands),
            "tagging": ("fitted_tagging", _tagging_commands),
            "speech": ("fitted_speech", _speech_commands)}


# Runs of another kind that a task's commands must load too: task -> (fixture, commands),
# run after the task's own (on its fitted run, not a copy: they write nothing in it).
OTHER_RUNS = {"forecast": ("fitted_student_t", _distribution_commands)}


def test_every_task_has_its_commands_listed():
    assert sorted(COMMANDS) == sorted(TASK_CONFIGS.names())


@pytest.fixture(scope="module")
def every_command(request, tmp_path_factory):
    """{task: (its folder, {command: (exit status, stdout, stderr)}) or the skip or failure
    that its fitted run raised}: every task's commands, on a copy of its fitted run (evaluate
    writes run/evaluation/), in one fresh process."""
    folders, listed, unavailable = {}, {}, {}
    for task in sorted(COMMANDS):
        fixture, commands = COMMANDS[task]
        try:  # a dataset that cannot be had skips (or fails) that task's test only
            fitted = request.getfixturevalue(fixture)
        except (pytest.skip.Exception, pytest.fail.Exception) as stop:
            unavailable[task] = stop
            continue
        folder = folders[task] = tmp_path_factory.mktemp(task)
        shutil.copytree(fitted[1] if isinstance(fitted, tuple) else fitted, folder / "run")
        for name, args in commands(folder / "run", folder).items():
            listed[f"{task} {name}"] = args
        if task in OTHER_RUNS:
            fixture, commands = OTHER_RUNS[task]
            other = request.getfixturevalue(fixture)[1]
            for name, args in commands(other, folder).items():
                listed[f"{task} {name}"] = args
    done = installed_commands(listed, cwd=tmp_path_factory.getbasetemp(), timeout=900)
    results = {task: (folder, {}) for task, folder in folders.items()}
    for key, result in done.items():
        task, name = key.split(" ", 1)
        results[task][1][name] = result
    return {**results, **unavailable}


@pytest.mark.parametrize("task", sorted(COMMANDS))
def test_every_command_runs_on_the_run_in_a_fresh_process(task, every_command):
    if isinstance(every_command[task], BaseException):
        raise every_command[task]
    folder, results = every_command[task]
    failed, printed = {}, {}
    for name, (code, out, err) in results.items():
        printed[name] = out
        if code != 0 or err:  # no TF start-up line or library warning either
            failed[name] = (code, (out + err)[-1500:])
    assert failed == {}
    saved = folder / "run" / "evaluation" / "test.json"  # the figures printed, saved
    assert f"Saved {saved}\n" in printed["evaluate"]
    figures = json.loads(saved.read_text(encoding="utf-8"))
    lines = WORKFLOWS.get(task)(None).evaluation_lines("test", figures)
    assert figures and "\n".join(lines) in printed["evaluate"]
    assert any((folder / "saved_models").rglob("saved_model.pb"))
