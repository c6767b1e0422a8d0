"""Training on several replicas: two local workers (MultiWorkerMirroredStrategy over real
loopback gRPC), mirrored over two logical CPU devices, against one device at the same
global batch; a killed worker; bad TF_CONFIG and batch sizes."""

import json
import math
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from rnn_pipeline.distribute.local_workers import run_local_workers
from test_pinned_results import FORECAST
from test_resume import DRIVER, assert_same, figures
from tests_support import installed_commands

SHORT_DEFAULT = ["--set", "data.max_lines=150", "--set", "model.embedding_dim=16",
                 "--set", "model.units=16", "--set", "train.batch_size=8",
                 "--set", "train.bptt=20"]


def run(folder, *args, timeout=400):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "rnn_pipeline.cli.main", *map(str, args)],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)


def final_figure(run_dir, task):
    final = json.loads((run_dir / "metrics.json").read_text())["final"]
    return final["valid_perplexity"] if task == "causal_lm" else final["test"][0]["mse"]


def forecast_pipeline(folder):
    rows = ["t,y,x"] + [f"{1950 + i // 12}-{i % 12 + 1:02d},{100 + i + 20 * math.sin(i / 2):.3f},"
                        f"{math.cos(i / 2):.3f}" for i in range(144)]
    (folder / "s.csv").write_text("\n".join(rows) + "\n")
    path = folder / "forecast.toml"
    path.write_text(FORECAST.format(csv=(folder / "s.csv").as_posix(), head="direct", layers=1))
    return path


@pytest.fixture(scope="module")
def one_device_forecast(tmp_path_factory):
    """A forecast pipeline (3 epochs, a checkpoint every 2 steps) and its 1-device run."""
    folder = tmp_path_factory.mktemp("forecast")
    pipeline = forecast_pipeline(folder)
    text = pipeline.read_text().replace("epochs = 2", "epochs = 3\ncheckpoint_every = 2")
    pipeline.write_text(text)
    # In this process (one device is what it has): a subprocess would only add an import.
    one = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(folder / "one")])
    assert one.exit_code == 0, one.output[-3000:]
    return pipeline, folder / "one"


@pytest.mark.slow  # 31 s
def test_two_local_workers_train_the_default_pipeline_like_one_worker(tmp_path):
    one = run(tmp_path, "fit", "default", *SHORT_DEFAULT, "--epochs", "2", "--run-dir", "one")
    assert one.returncode == 0, one.stderr[-3000:]
    two = run(tmp_path, "fit", "default", *SHORT_DEFAULT, "--epochs", "2", "--run-dir", "two",
              "--local-workers", "2")
    assert two.returncode == 0, two.stdout[-3000:]
    lines = two.stdout.splitlines()
    assert any(line.startswith("[worker 1] Model: ") for line in lines)
    assert any(line.startswith("[worker 0] Pipeline ") for line in lines)
    assert not any(line.startswith("[worker 1] Pipeline ") for line in lines)  # chief only
    assert "multi_worker" in (tmp_path / "two" / "config.toml").read_text()
    assert final_figure(tmp_path / "two", "causal_lm") == pytest.approx(
        final_figure(tmp_path / "one", "causal_lm"), rel=0.01)


@pytest.mark.slow  # 73 s
def test_a_killed_worker_stops_the_job_and_a_restart_resumes(one_device_forecast, tmp_path,
                                                             monkeypatch):
    """Two workers train the forecaster as one device does; worker 1 of a second job kills
    itself right after the first checkpoint in epoch 2, the launcher stops the chief, and
    the restarted job resumes and ends as the unbroken 2-worker job."""
    pipeline, one = one_device_forecast
    unbroken = run(tmp_path, "fit", pipeline, "--run-dir", "unbroken", "--local-workers", "2")
    assert unbroken.returncode == 0, unbroken.stdout[-3000:]
    assert final_figure(tmp_path / "unbroken", "forecast") == pytest.approx(
        final_figure(one, "forecast"), rel=0.01)
    lines = []
    only_worker_1_dies = ("import json, os\n"
                          "if json.loads(os.environ['TF_CONFIG'])['task']['index'] != 1:\n"
                          "    os.environ.pop('KILL_AT')\n") + DRIVER
    command = [sys.executable, "-c", only_worker_1_dies, "fit", str(pipeline), "--run-dir",
               "broken", "--set", "train.strategy=multi_worker"]
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KILL_AT="kill")
    monkeypatch.chdir(tmp_path)
    code = run_local_workers(command, 2, env=environment, out=lines.append, grace_seconds=5)
    assert code != 0
    assert any("[launcher] worker 1 exited with code -9" in line for line in lines), lines
    assert not (tmp_path / "broken" / "model.keras").exists()
    resumed = run(tmp_path, "fit", "--resume", "broken", "--local-workers", "2")
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert "[worker 0] Resuming broken from ckpt-" in resumed.stdout
    assert_same(figures(tmp_path / "unbroken"), figures(tmp_path / "broken"))


@pytest.fixture(scope="module")
def mirrored(one_device_forecast, tmp_path_factory):
    """(folder, {command: (exit status, stdout, stderr)}): in one fresh process (the logical
    CPU devices are set before TensorFlow first runs an op), a mirrored fit of the default
    pipeline refused for its batch size, then the forecast pipeline fitted mirrored."""
    pipeline, _ = one_device_forecast
    folder = tmp_path_factory.mktemp("mirrored")
    return folder, installed_commands({
        "refused": ["fit", "default", "--set", "train.strategy=mirrored",
                    "--set", "train.batch_size=3", "--run-dir", folder / "r"],
        "mirrored": ["fit", pipeline, "--run-dir", folder / "mirrored",
                     "--set", "train.strategy=mirrored", "--set", "train.devices=2"]},
        cwd=folder, timeout=400)


@pytest.mark.slow  # 23 s on 2 cores: the slow suite runs it
def test_mirrored_over_two_cpu_devices_trains_like_one(one_device_forecast, mirrored):
    _, one = one_device_forecast
    folder, done = mirrored
    code, out, err = done["mirrored"]
    assert code == 0, err[-3000:]
    assert "2 replicas" in out
    assert final_figure(folder / "mirrored", "forecast") == pytest.approx(
        final_figure(one, "forecast"), rel=0.01)


@pytest.mark.slow  # 21 s: it shares the mirrored run on 2 cores: the slow suite runs it
def test_a_batch_that_does_not_divide_among_the_replicas_is_one_line(mirrored):
    folder, done = mirrored
    code, _, err = done["refused"]
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "Error: train.batch_size must divide by the 2 replicas of train.strategy 'mirrored' "
        "(each replica carries the state of batch_size / replicas streams). Received: "
        "train.batch_size=3")
    assert not (folder / "r").exists()


@pytest.mark.parametrize("tf_config, key", [
    ('{"cluster": 3, "task": {"type": "worker", "index": 0}}', "TF_CONFIG.cluster"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 4}}',
     "TF_CONFIG.task.index"),
    ("{not json", "TF_CONFIG"),
])
def test_a_malformed_tf_config_is_one_line_naming_the_key(tmp_path, tf_config, key):
    result = CliRunner().invoke(cli, ["fit", "default", "--set", "train.strategy=multi_worker",
                                      "--run-dir", str(tmp_path / "r")],
                                env={"TF_CONFIG": tf_config})
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.startswith(f"Error: {key} ") and "\n" not in line
    assert not (tmp_path / "r").exists()
