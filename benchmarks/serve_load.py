"""Benchmark (issue 35): ``rnn-pipeline serve`` under load, on loopback.

A real ``rnn-pipeline serve`` process (its default limits) serves an export of the default
pipeline's shape (1 x 200 LSTM, tied, vocabulary 3,827; random weights: the cost does not
depend on what was learned). For ``--duration`` seconds:

* 2 heavy clients send, back to back, the largest ``score`` request the server accepts
  (``--max-words`` words); each first sends a 10 MB one, which must get 413;
* ``--clients`` clients send mixed traffic, valid and invalid, round robin (bad JSON, a
  missing input, max_tokens out of range or beyond int32, NaN, an unknown signature or
  model, too many instances, too many words, a body over the limit, a bad Content-Length,
  a body shorter than its Content-Length);
* a probe sends a small ``score`` request every 0.1 s and times it.

Printed: requests, status-code counts, 5xx and connection errors, the heavy requests'
durations, and the probe's p50/p99 latency for each 10 s of the run.

Usage:
    python benchmarks/serve_load.py [--duration 60] [--clients 12]
"""

import argparse
import collections
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from machine import cpu_name  # benchmarks/ is the script's folder, first on sys.path
from processes import start_serve
from rnn_pipeline.serving.limits import ServeLimits

LIMITS = ServeLimits()  # what the server runs with: its defaults
WINDOW = 10.0  # seconds per row of the probe's latencies


def generation(**values):
    return {"prompt": "w1 w2 w3", "max_tokens": 20, "temperature": 0.8, "top_k": 10,
            "seed": 1, **values}


def generating(*instances):
    """A request body of the ``generate`` signature (every option an input)."""
    return {"signature_name": "generate", "instances": list(instances)}


def mixed_requests():
    """(kind, method, data[, path]) of each kind of request; method "RAW": bytes sent on
    a socket of their own."""
    def body(payload):
        return json.dumps(payload).encode()

    words = " ".join(f"w{i % 3000 + 2}" for i in range(LIMITS.max_words // 2 + 1))
    return [
        ("score", "POST", body({"signature_name": "score", "instances": ["w1 w2 w3 w4"]})),
        ("next_words", "POST", body({"signature_name": "next_words", "instances": ["w1"]})),
        ("generate", "POST", body(generating(generation(), generation(seed=2)))),
        ("status", "GET", None),
        ("bad_json", "POST", b"{not json"),
        ("missing_input", "POST", body(generating({"prompt": "w1"}))),
        ("max_tokens_5000", "POST", body(generating(generation(max_tokens=5000)))),
        ("max_tokens_2**32+5", "POST", body(generating(generation(max_tokens=2**32 + 5)))),
        ("temperature_nan", "POST", body(generating(generation(temperature=float("nan"))))),
        ("unknown_signature", "POST", body({"signature_name": "nope", "instances": ["w1"]})),
        ("unknown_model", "POST", body({"instances": ["w1"]}), "/v1/models/absent:predict"),
        ("too_many_instances", "POST", body({"signature_name": "score",
                                            "instances": ["w1"] * (LIMITS.max_instances + 1)})),
        ("too_many_words", "POST", body({"signature_name": "score",
                                        "instances": [words, "w1"]})),
        ("body_over_limit", "POST", b"x" * (LIMITS.max_request_bytes + 1)),
        ("bad_content_length", "RAW", b"POST /v1/models/lm:predict HTTP/1.1\r\nHost: b\r\n"
                                      b"Content-Length: abc\r\n\r\n"),
    ]


def http(port, method, data, path="/v1/models/lm:predict", timeout=120):
    """(status or an error's name, seconds) of one request."""
    url = f"http://127.0.0.1:{port}{path if method == 'POST' else '/v1/models/lm'}"
    started = time.perf_counter()
    try:
        request = urllib.request.Request(url, data=data, method=method)
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    except OSError as error:
        status = type(getattr(error, "reason", error)).__name__
    return status, time.perf_counter() - started


def raw(port, data, timeout=60):
    """The status of raw bytes sent on a connection of their own."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(data)
            head = connection.recv(64).decode("latin-1")
        return int(head.split()[1])
    except (OSError, IndexError, ValueError) as error:
        return type(error).__name__


def start_together(barrier, duration):
    """Waits until every client process has started (their start-up is not measured);
    returns (the start time, the end time)."""
    barrier.wait()
    started = time.time()
    return started, started + duration


def heavy_client(port, barrier, duration, results):
    """Process: the 10 MB request once, then the largest accepted ``score`` to the end."""
    _, until = start_together(barrier, duration)
    counts, durations = collections.Counter(), []
    counts["ten_megabytes", http(port, "POST", b"x" * 10_000_000)[0]] += 1
    text = " ".join(f"w{i % 3000 + 2}" for i in range(LIMITS.max_words - 1))
    data = json.dumps({"signature_name": "score", "instances": [text]}).encode()
    while time.time() < until:
        status, seconds = http(port, "POST", data)
        counts["heavy_score", status] += 1
        durations.append(seconds)
    results.put({"counts": counts, "durations": durations})


def mixed_client(port, barrier, duration, results, offset):
    """Process: the kinds of `mixed_requests` round robin to the end; client 0 also sends
    a body shorter than its length now and then (408 after the read timeout)."""
    counts, kinds = collections.Counter(), mixed_requests()
    _, until = start_together(barrier, duration)
    short_body = (b"POST /v1/models/lm:predict HTTP/1.1\r\nHost: b\r\nContent-Length: 100\r\n"
                  b"\r\n{\"inst")
    i = offset
    while time.time() < until:
        kind, method, data, *path = kinds[i % len(kinds)]
        status = raw(port, data) if method == "RAW" else http(port, method, data, *path)[0]
        counts[kind, status] += 1
        if offset == 0 and i % 200 == 0:
            counts["short_body", raw(port, short_body)] += 1
        i += 1
    results.put({"counts": counts})


def probe(port, barrier, duration, results):
    """Process: a small ``score`` request every 0.1 s; (time since start, seconds) each."""
    started, until = start_together(barrier, duration)
    counts, latencies = collections.Counter(), []
    data = json.dumps({"signature_name": "score", "instances": ["w5 w6 w7"]}).encode()
    while time.time() < until:
        status, seconds = http(port, "POST", data)
        counts["probe", status] += 1
        latencies.append((time.time() - started, seconds))
        time.sleep(0.1)
    results.put({"counts": counts, "latencies": latencies})


def export_model(base):
    """The export ``<base>/lm/1`` of generation_latency.py's model shape."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generation_latency import model_for

    from rnn_pipeline.export import export_saved_model
    from rnn_pipeline.tasks.causal_lm.serving import LanguageModelServing

    export_saved_model(lambda assets: LanguageModelServing(model_for(1), assets), base, "lm")


def start_server(base):
    process, port = start_serve(base)
    for _ in range(3):  # loads and warms the model
        http(port, "POST", json.dumps({"signature_name": "score", "instances": ["w1"]}).encode())
    return process, port


def windows(latencies, duration):
    rows = []
    for start in np.arange(0, duration, WINDOW):
        ms = [s * 1000 for t, s in latencies if start <= t < start + WINDOW]
        if ms:
            rows.append({"from_s": int(start), "to_s": int(start + WINDOW), "probes": len(ms),
                         "p50_ms": round(float(np.percentile(ms, 50)), 1),
                         "p99_ms": round(float(np.percentile(ms, 99)), 1),
                         "max_ms": round(max(ms), 1)})
    return rows


def run(base, duration, clients):
    """Every client a process of its own (no client waits on another's GIL), against a
    server process; returns the merged results."""
    process, port = start_server(base)
    spawn = multiprocessing.get_context("spawn")
    results, barrier = spawn.Queue(), spawn.Barrier(clients + 3)
    common = (port, barrier, duration, results)
    jobs = [spawn.Process(target=heavy_client, args=common) for _ in range(2)]
    jobs += [spawn.Process(target=mixed_client, args=(*common, i)) for i in range(clients)]
    jobs.append(spawn.Process(target=probe, args=common))
    try:
        for job in jobs:
            job.start()
        merged = {"counts": collections.Counter(), "durations": [], "latencies": []}
        for _ in jobs:
            result = results.get(timeout=duration + 600)
            merged["counts"].update(result["counts"])
            merged["durations"] += result.get("durations", [])
            merged["latencies"] += result.get("latencies", [])
        for job in jobs:
            job.join()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=12, help="clients of mixed traffic")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as base:
        export_model(base)
        merged = run(base, args.duration, args.clients)
    statuses, kinds = collections.Counter(), collections.defaultdict(dict)
    for (kind, status), count in merged["counts"].items():
        statuses[status] += count
        kinds[kind][str(status)] = count
    ms = [s * 1000 for _, s in merged["latencies"]]
    durations = merged["durations"]
    report = {
        "machine": f"{cpu_name()}, {os.cpu_count()} cores",
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "duration_s": args.duration, "clients": args.clients, "heavy_clients": 2,
        "limits": {"max_request_bytes": LIMITS.max_request_bytes,
                   "max_instances": LIMITS.max_instances, "max_words": LIMITS.max_words,
                   "read_timeout_s": LIMITS.read_timeout},
        "requests": sum(statuses.values()),
        "status_codes": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "5xx": sum(v for k, v in statuses.items() if isinstance(k, int) and k >= 500),
        "connection_errors": sum(v for k, v in statuses.items() if not isinstance(k, int)),
        "heavy_score_requests": len(durations),
        "heavy_score_seconds_mean": round(float(np.mean(durations)), 2) if durations else None,
        "probe": {"requests": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 1),
                  "p99_ms": round(float(np.percentile(ms, 99)), 1),
                  "max_ms": round(max(ms), 1)},
        "probe_over_time": windows(merged["latencies"], args.duration),
        "by_kind": dict(sorted(kinds.items())),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
