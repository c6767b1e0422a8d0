"""TF_CONFIG reading and the local worker launcher (tiny Python children, no TensorFlow)."""

import json
import os
import re
import signal
import sys
import time

import pytest

from rnn_pipeline.distribute.local_workers import free_ports, run_local_workers
from rnn_pipeline.distribute.tf_config import ClusterConfig, make_tf_config, read_tf_config
from rnn_pipeline.errors import PipelineError

WORKERS = ["127.0.0.1:2001", "127.0.0.1:2002"]


def _read(config):
    text = config if isinstance(config, str) else json.dumps(config)
    return read_tf_config({"TF_CONFIG": text})


def _config(cluster=None, task=None, **extra):
    return {"cluster": {"worker": WORKERS} if cluster is None else cluster,
            "task": {"type": "worker", "index": 0} if task is None else task, **extra}


def test_two_workers():
    first = _read(_config(task={"type": "worker", "index": 0}))
    second = _read(_config(task={"type": "worker", "index": 1}))
    assert first == ClusterConfig({"worker": tuple(WORKERS)}, "worker", 0)
    assert (first.is_chief, first.worker_id, first.num_workers) == (True, 0, 2)
    assert (second.is_chief, second.worker_id, second.num_workers) == (False, 1, 2)


def test_chief_job_comes_first():
    cluster = {"chief": ["10.0.0.1:2222"], "worker": WORKERS}
    chief = _read(_config(cluster, {"type": "chief", "index": 0}, environment="cloud"))
    worker = _read(_config(cluster, {"type": "worker", "index": 0}))
    assert (chief.is_chief, chief.worker_id, chief.num_workers) == (True, 0, 3)
    assert (worker.is_chief, worker.worker_id, worker.num_workers) == (False, 1, 3)


def test_unset_or_empty_is_none():
    assert read_tf_config({}) is None
    assert read_tf_config({"TF_CONFIG": "  "}) is None


@pytest.mark.parametrize("config, argument, words", [
    ('{"cluster": ', "TF_CONFIG", "not valid JSON"),
    ("[1, 2]", "TF_CONFIG", "JSON object"),
    (_config(tasks={}), "TF_CONFIG.tasks", "'cluster', 'task', 'environment', 'rpc_layer'"),
    ({"task": {"type": "worker", "index": 0}}, "TF_CONFIG.cluster", '"host:port"'),
    (_config(cluster={"worker": []}), "TF_CONFIG.cluster.worker", "non-empty list"),
    (_config(cluster={"worker": ["host"]}), "TF_CONFIG.cluster.worker", "1-65535"),
    (_config(cluster={"worker": ["h:0"]}), "TF_CONFIG.cluster.worker", "1-65535"),
    (_config(cluster={"worker": ["h:70000"]}), "TF_CONFIG.cluster.worker", "1-65535"),
    (_config(cluster={"worker": "h:1"}), "TF_CONFIG.cluster.worker", "non-empty list"),
    (_config(cluster={"worker": WORKERS, "ps": ["h:1"]}), "TF_CONFIG.cluster.ps",
     "parameter-server training is not supported"),
    (_config(cluster={"worker": WORKERS, "master": ["h:1"]}), "TF_CONFIG.cluster.master",
     "'chief', 'worker', 'evaluator'"),
    (_config(cluster={"chief": WORKERS}), "TF_CONFIG.cluster.chief", "exactly one"),
    ({"cluster": {"worker": WORKERS}}, "TF_CONFIG.task", "object"),
    (_config(task=[0]), "TF_CONFIG.task", "object"),
    (_config(task={"type": "chief", "index": 0}), "TF_CONFIG.task.type", "'worker'"),
    (_config(task={"type": "worker", "index": 2}), "TF_CONFIG.task.index", "[0, 2)"),
    (_config(task={"type": "worker", "index": "0"}), "TF_CONFIG.task.index", "integer"),
    (_config(task={"type": "worker"}), "TF_CONFIG.task.index", "integer"),
])
def test_malformed_config_is_one_line_naming_the_key(config, argument, words):
    with pytest.raises(PipelineError) as info:
        _read(config)
    message = str(info.value)
    assert message.startswith(argument + " ") and f"Received: {argument}=" in message
    assert words in message and "\n" not in message


def test_invalid_json_gives_the_position():
    with pytest.raises(PipelineError, match="line 1 column 13"):
        _read('{"cluster": ')


def test_make_tf_config_round_trips():
    config = read_tf_config({"TF_CONFIG": make_tf_config(WORKERS, 1)})
    assert config == ClusterConfig({"worker": tuple(WORKERS)}, "worker", 1)
    with pytest.raises(PipelineError, match=r"^TF_CONFIG\.task\.index "):
        make_tf_config(WORKERS, 5)


def _child(code):
    return [sys.executable, "-c", code]


REPORT = ("import json, os; c = json.loads(os.environ['TF_CONFIG']); "
          "print('index', c['task']['index']); "
          "print('workers', len(c['cluster']['worker']), os.environ['PYTHONUNBUFFERED'])")


def test_every_worker_runs_with_its_own_tf_config():
    lines, before = [], signal.getsignal(signal.SIGINT)
    code = run_local_workers(_child(REPORT), 3, out=lines.append)
    assert code == 0
    for i in range(3):
        assert f"[worker {i}] index {i}" in lines
        assert f"[worker {i}] workers 3 1" in lines
    assert len(lines) == 6 and all(re.fullmatch(r"\[worker \d\] \w+ \d( 1)?", x) for x in lines)
    assert signal.getsignal(signal.SIGINT) is before


def test_the_chief_exit_code_is_returned():
    code = run_local_workers(_child("import os, sys; sys.exit(3 if os.environ['TF_CONFIG']"
                                    ".endswith('0}}') else 0)"), 2, out=lambda line: None)
    assert code == 3


def test_a_killed_worker_stops_the_chief_quickly():
    lines, start = [], time.monotonic()
    code = run_local_workers(_child(
        "import json, os, time\n"
        "if json.loads(os.environ['TF_CONFIG'])['task']['index'] == 1:\n"
        "    os.kill(os.getpid(), 9)\n"
        "time.sleep(60)"), 2, out=lines.append)
    assert time.monotonic() - start < 20
    assert "[launcher] worker 1 exited with code -9; stopping the other workers" in lines
    assert code == 137


def test_workers_left_after_the_chief_are_stopped():
    lines, start = [], time.monotonic()
    code = run_local_workers(_child(
        "import json, os, time\n"
        "if json.loads(os.environ['TF_CONFIG'])['task']['index'] == 1:\n"
        "    time.sleep(60)"), 2, out=lines.append, grace_seconds=0.5)
    assert code == 0 and time.monotonic() - start < 20
    assert lines == ["[launcher] worker(s) 1 still running 0.5s after the chief finished; "
                     "stopping them"]


def test_sigterm_to_the_launcher_is_forwarded():
    received = []

    def guard(signum, frame):
        received.append(signum)

    def out(line):
        lines.append(line)
        if sum(line.endswith("] ready") for line in lines) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    lines, previous = [], signal.signal(signal.SIGTERM, guard)
    try:
        start = time.monotonic()
        code = run_local_workers(_child("import time; print('ready'); time.sleep(60)"), 2,
                                 out=out)
        assert time.monotonic() - start < 20 and code == 128 + signal.SIGTERM
        assert received == [] and signal.getsignal(signal.SIGTERM) is guard
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_free_ports_are_distinct():
    ports = free_ports(5)
    assert len(set(ports)) == 5 and all(isinstance(p, int) and 0 < p < 65536 for p in ports)


@pytest.mark.parametrize("count", [0, -1, 1.5])
def test_local_workers_must_be_at_least_one(count):
    with pytest.raises(PipelineError) as info:
        run_local_workers(_child("pass"), count)
    expected = f"--local-workers must be at least 1. Received: --local-workers={count!r}"
    assert str(info.value) == expected
