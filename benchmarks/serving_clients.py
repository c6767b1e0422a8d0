"""What serving_latency.py and serving_soak.py share: an export of the default
pipeline's shape, ``rnn-pipeline serve`` (REST and gRPC) in a subprocess, and client
processes that send requests back to back over kept-alive connections and record each
answer's status and latency.

Clients are threads spread over a few processes (no client waits on another's GIL for
long). A REST client holds one `http.client.HTTPConnection`; a gRPC client one channel,
calling ``/tensorflow.serving.PredictionService/Predict`` with a PredictRequest serialized
once in the parent (a `PredictionServiceStub` call without the per-call serialization,
so that a client needs no TensorFlow)."""

import collections
import http.client
import math
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from machine import cpu_name  # benchmarks/ is the script's folder, first on sys.path

REPO = Path(__file__).resolve().parents[1]
PREDICT = "/tensorflow.serving.PredictionService/Predict"
SERVER_FAULTS = ("INTERNAL", "UNAVAILABLE", "UNKNOWN", "DATA_LOSS")  # gRPC's 5xx


def machine_report():
    """{cpu, cores, load average}: whether other processes kept the cores busy."""
    load = os.getloadavg()
    cores = os.cpu_count()
    return {"cpu": cpu_name(), "cores": cores, "load_average_1_5_15": [round(x, 2) for x in load],
            "busy": load[0] > 0.5 * cores}


def build_export(base):
    """``<base>/lm/1``: the default pipeline's shape (1 x 200 LSTM, tied, vocabulary 3,827)
    with random weights, as serve_load.py and generation_latency.py measure it."""
    from serve_load import export_model

    export_model(base)
    return "lm"


def grpc_request(model, signature, inputs, version=None):
    """A serialized PredictRequest ({input: NumPy array or list})."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request.SerializeToString()


def start_server(base, *options):
    """``rnn-pipeline serve --base BASE --port 0 --grpc-port 0 [options]`` in a subprocess,
    once it serves; (process, REST port, gRPC port). The caller terminates it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    process = subprocess.Popen([sys.executable, "-m", "rnn_pipeline.cli.main", "serve",
                                "--base", str(base), "--port", "0", "--grpc-port", "0",
                                *map(str, options)], stdout=subprocess.PIPE, text=True,
                               cwd=REPO, env=env)
    rest = process.stdout.readline()
    grpc_line = process.stdout.readline()
    if "http://" not in rest or "gRPC" not in grpc_line:
        process.kill()
        raise SystemExit(f"rnn-pipeline serve did not start: {rest!r} {grpc_line!r}")
    rest_port = int(rest.split("http://127.0.0.1:")[1].split("/")[0])
    grpc_port = int(grpc_line.split("127.0.0.1:")[1].split()[0])
    return process, rest_port, grpc_port


def rss_mib(pid):
    """The process's resident memory (VmRSS of /proc/<pid>/status), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class _Rest:
    """One kept-alive HTTP/1.1 connection; reopened after the server closes it."""

    def __init__(self, port):
        self.port, self.connection = port, None

    def __call__(self, path, body):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            self.connection.request("POST", path, body,
                                    headers={"Content-Type": "application/json"})
            answer = self.connection.getresponse()
            answer.read()
            if answer.will_close:
                self.connection.close()
                self.connection = None
            return answer.status
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            self.connection = None
            return f"connection:{type(error).__name__}"


class _Grpc:
    """One channel; statuses are gRPC code names."""

    def __init__(self, port):
        import grpc

        self.grpc = grpc
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_send_message_length", 64 * 2**20)])
        self.call = channel.unary_unary(PREDICT)

    def __call__(self, path, body):
        try:
            self.call(body, timeout=300)
            return "OK"
        except self.grpc.RpcError as error:
            return error.code().name


def _client_thread(transport, port, requests, offset, times, records):
    """Sends ``requests`` [(kind, path, body)] round robin from ``offset`` until
    ``times[1]``; records (kind, status, seconds) of those that started after
    ``times[0]``, and counts those that ended within the window."""
    send = _Rest(port) if transport == "rest" else _Grpc(port)
    measure_from, until = times
    i = offset
    while True:
        kind, path, body = requests[i % len(requests)]
        started = time.time()
        if started >= until:
            return
        status = send(path, body)
        ended = time.time()
        if started >= measure_from and ended <= until:
            records.append((kind, status, ended - started))
        i += 1


def _client_process(transport, port, requests, threads, first, window, barrier, results):
    """``threads`` clients; the window (warm-up, seconds) starts once every process is up."""
    records = []
    barrier.wait()
    warmup, seconds = window
    times = (time.time() + warmup, time.time() + warmup + seconds)
    workers = [threading.Thread(target=_client_thread,
                                args=(transport, port, requests, first + i, times, records))
               for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(records)


def run_clients(transport, port, requests, clients, seconds, warmup):
    """``clients`` clients send ``requests`` [(kind, path, body)] for ``warmup`` + ``seconds``
    seconds; [(kind, status, seconds)] of the requests of the last ``seconds``."""
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    processes = min(clients, os.cpu_count() or 1, 8)
    barrier = spawn.Barrier(processes)
    per = [clients // processes + (i < clients % processes) for i in range(processes)]
    jobs, first = [], 0
    for threads in per:
        jobs.append(spawn.Process(target=_client_process, args=(
            transport, port, requests, threads, first, (warmup, seconds), barrier, results)))
        first += threads
    for job in jobs:
        job.start()
    records = []
    for _ in jobs:
        records += results.get(timeout=warmup + seconds + 600)
    for job in jobs:
        job.join()
    return records


def summary(records, seconds):
    """{requests, requests_per_s, p50_ms, p99_ms, statuses}."""
    latencies = sorted(s * 1000 for _, _, s in records)
    statuses = collections.Counter(str(status) for _, status, _ in records)

    def percentile(q):
        return round(latencies[min(len(latencies) - 1, math.ceil(q * len(latencies)) - 1)], 2) \
            if latencies else None

    return {"requests": len(records), "requests_per_s": round(len(records) / seconds, 1),
            "p50_ms": percentile(0.50), "p99_ms": percentile(0.99),
            "statuses": dict(statuses)}
