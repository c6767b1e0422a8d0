"""Soak test (issue 40): ``rnn-pipeline serve`` (REST and gRPC, with server-side batching
unless ``--no-batching``) for ``--minutes`` under 16 clients sending valid and invalid
requests round robin: a wrong signature, a missing input, a wrong dtype, a wrong rank,
an oversized body or message, bad base64 (REST), an unknown version. Every kind has its
expected answer (200/OK, 400/INVALID_ARGUMENT, 404/NOT_FOUND, 413/RESOURCE_EXHAUSTED).

Counted: answers per kind and status, unexpected answers, and unexpected server faults
(5xx; gRPC INTERNAL, UNAVAILABLE, UNKNOWN, DATA_LOSS); the server's resident memory
(VmRSS) after a warm-up (a minute, or a fifth of a shorter run) and at the end.
Exit status 1 on any unexpected fault or an RSS growth of 10% or more.

Usage:
    python benchmarks/serving_soak.py [--minutes 10] [--clients 16] [--out soak.json]
"""

import argparse
import collections
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from serving_clients import (SERVER_FAULTS, build_export, grpc_request, machine_report,
                             rss_mib, run_clients, start_server)

MAX_REQUEST_BYTES = 65536  # the server's --max-request-bytes: "oversized" is cheap to send


def rest_requests(model, prompt):
    """[(kind, path, body)] and {kind: expected status}."""
    path = f"/v1/models/{model}:predict"
    kinds = {
        "valid": (path, {"instances": [prompt]}, 200),
        "valid_next_words": (path, {"signature_name": "next_words", "instances": [prompt]},
                             200),
        "wrong_signature": (path, {"signature_name": "nope", "instances": [prompt]}, 400),
        "missing_input": (path, {"instances": [{"text": prompt}]}, 400),
        "wrong_dtype": (path, {"instances": [5]}, 400),
        "wrong_rank": (path, {"instances": [[prompt, prompt]]}, 400),
        "oversized": (path, {"instances": ["w1 " * (MAX_REQUEST_BYTES // 3 + 10)]}, 413),
        "bad_base64": (path, {"instances": [{"b64": "not base64!"}]}, 400),
        "unknown_version": (f"/v1/models/{model}/versions/99:predict",
                            {"instances": [prompt]}, 404),
    }
    return ([(f"rest_{kind}", path, json.dumps(body).encode())
             for kind, (path, body, _) in kinds.items()],
            {f"rest_{kind}": str(code) for kind, (_, _, code) in kinds.items()})


def grpc_requests(model, prompt):
    """[(kind, None, serialized PredictRequest)] and {kind: expected code name}."""
    kinds = {
        "valid": (("serving_default", {"prompt": [prompt]}), "OK"),
        "wrong_signature": (("nope", {"prompt": [prompt]}), "INVALID_ARGUMENT"),
        "missing_input": (("serving_default", {"text": [prompt]}), "INVALID_ARGUMENT"),
        "wrong_dtype": (("serving_default", {"prompt": np.array([5], np.int32)}),
                        "INVALID_ARGUMENT"),
        "wrong_rank": (("serving_default", {"prompt": [[prompt, prompt]]}), "INVALID_ARGUMENT"),
        "oversized": (("serving_default", {"prompt": ["w1 " * MAX_REQUEST_BYTES]}),
                      "RESOURCE_EXHAUSTED"),
        "unknown_version": (("serving_default", {"prompt": [prompt]}, 99), "NOT_FOUND"),
    }
    return ([(f"grpc_{kind}", None, grpc_request(model, *args))
             for kind, (args, _) in kinds.items()],
            {f"grpc_{kind}": code for kind, (_, code) in kinds.items()})


def soak(base, model, batching, args):
    """Runs the clients against one server; (records, {when: RSS MiB})."""
    rest, rest_expected = rest_requests(model, args.prompt)
    grpc, grpc_expected = grpc_requests(model, args.prompt)
    options = ["--max-request-bytes", MAX_REQUEST_BYTES]
    options += ["--batching-parameters", batching] if batching else []
    process, rest_port, grpc_port = start_server(base, *options)
    seconds = args.minutes * 60
    warmup = min(60.0, seconds / 5)
    rss, results = {}, {}

    def clients(transport, port, requests, count):
        results[transport] = run_clients(transport, port, requests, count, seconds, 0.0)

    try:
        rss["start"] = rss_mib(process.pid)
        half = args.clients // 2
        threads = [threading.Thread(target=clients, args=("rest", rest_port, rest,
                                                          args.clients - half)),
                   threading.Thread(target=clients, args=("grpc", grpc_port, grpc, half))]
        for thread in threads:
            thread.start()
        time.sleep(warmup + 5)  # the clients' processes start within a few seconds
        rss["after_warmup"] = rss_mib(process.pid)
        for thread in threads:
            thread.join()
        rss["end"] = rss_mib(process.pid)
        still_up = process.poll() is None
    finally:
        process.terminate()
        process.wait(30)
    return results, {**rest_expected, **grpc_expected}, rss, still_up


def is_fault(status):
    return status in SERVER_FAULTS or (str(status).isdigit() and int(status) >= 500)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--export", type=Path, help="an export base (default: one written "
                                                    "to a temporary folder)")
    parser.add_argument("--model", default="lm", help="the model's name under --export")
    parser.add_argument("--prompt", default="w1 w2 w3")
    parser.add_argument("--no-batching", action="store_true", help="serve without batching")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    machine = machine_report()
    print(f"CPU: {machine['cpu']} ({machine['cores']} cores); load average before: "
          f"{machine['load_average_1_5_15']}{' (BUSY)' if machine['busy'] else ''}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        base, model = (args.export, args.model) if args.export else (folder, build_export(folder))
        from rnn_pipeline.serving.batching_parameters import write_example

        batching = None if args.no_batching else write_example(folder)
        results, expected, rss, still_up = soak(base, model, batching, args)
    counts = collections.Counter()
    for records in results.values():
        counts.update((kind, str(status)) for kind, status, _ in records)
    by_kind = collections.defaultdict(dict)
    for (kind, status), count in sorted(counts.items()):
        by_kind[kind][status] = count
    unexpected = {f"{kind} {status}": n for (kind, status), n in counts.items()
                  if status != expected[kind]}
    faults = sum(n for (kind, status), n in counts.items() if is_fault(status))
    growth = (rss["end"] - rss["after_warmup"]) / rss["after_warmup"]
    report = {"machine": machine, "load_average_after": machine_report()["load_average_1_5_15"],
              "minutes": args.minutes, "clients": args.clients, "batching": bool(batching),
              "requests": sum(counts.values()), "by_kind": by_kind, "unexpected": unexpected,
              "server_faults": faults, "rss_mib": {k: round(v, 1) for k, v in rss.items()},
              "rss_growth_after_warmup": round(growth, 4), "server_still_up": still_up}
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    failed = faults or growth >= 0.10 or not still_up
    print(f"{'FAILED' if failed else 'passed'}: {faults} unexpected server faults, RSS "
          f"{rss['after_warmup']:.0f} -> {rss['end']:.0f} MiB ({growth:+.1%}; fails at +10%)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
