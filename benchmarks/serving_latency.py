"""Benchmark (issue 40): ``rnn-pipeline serve`` under 1, 8 and 32 concurrent clients, with
and without server-side batching (``--batching-parameters``), over REST and gRPC.

A real ``rnn-pipeline serve --grpc-port 0`` process serves an export (by default one it
writes: the default pipeline's shape, 1 x 200 LSTM, vocabulary 3,827, random weights).
Every client sends the same batch-1 request back to back on a kept-alive connection
(REST: ``{"signature_name": SIGNATURE, "instances": [PROMPT]}``, by default to
``serving_default``, the export's default generation of 30 tokens, or ``--signature
next_words``, one forward pass; gRPC: the same PredictRequest). Each cell: ``--warmup``
seconds, then ``--seconds`` seconds measured: requests/s and p50/p99 latency.

Printed: the CPU, the load average before and after (other processes busy?), and a
Markdown table; ``--out`` also writes the JSON.

Usage:
    python benchmarks/serving_latency.py [--seconds 20] [--export BASE --model NAME]
        [--batching FILE] [--signature serving_default|next_words] [--out results.json]
"""

import argparse
import json
import tempfile
from pathlib import Path

from serving_clients import (build_export, grpc_request, machine_report, run_clients,
                             start_server, summary)

CLIENTS = (1, 8, 32)


def cells(base, model, batching, args):
    """[row] of every (batching, transport, clients) cell."""
    rest = [("predict", f"/v1/models/{model}:predict",
             json.dumps({"signature_name": args.signature,
                         "instances": [args.prompt]}).encode())]
    grpc = [("predict", None, grpc_request(model, args.signature, {"prompt": [args.prompt]}))]
    rows = []
    for batched in (False, True):
        options = ["--batching-parameters", batching] if batched else []
        process, rest_port, grpc_port = start_server(base, *options)
        try:
            for transport, port, requests in (("rest", rest_port, rest),
                                              ("grpc", grpc_port, grpc)):
                for clients in args.clients:
                    records = run_clients(transport, port, requests, clients, args.seconds,
                                          args.warmup)
                    row = {"batching": batched, "transport": transport, "clients": clients,
                           **summary(records, args.seconds)}
                    print(json.dumps(row), flush=True)
                    rows.append(row)
        finally:
            process.terminate()
            process.wait(30)
    return rows


def table(rows):
    lines = ["| transport | batching | clients | requests/s | p50 ms | p99 ms | not 200/OK |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        bad = sum(n for status, n in row["statuses"].items() if status not in ("200", "OK"))
        lines.append(f"| {row['transport']} | {'on' if row['batching'] else 'off'} | "
                     f"{row['clients']} | {row['requests_per_s']} | {row['p50_ms']} | "
                     f"{row['p99_ms']} | {bad} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured per cell")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured, per cell")
    parser.add_argument("--clients", type=lambda s: [int(c) for c in s.split(",")],
                        default=list(CLIENTS), help="comma-separated (default 1,8,32)")
    parser.add_argument("--export", type=Path, help="an export base (default: one written "
                                                    "to a temporary folder)")
    parser.add_argument("--model", default="lm", help="the model's name under --export")
    parser.add_argument("--prompt", default="w1 w2 w3")
    parser.add_argument("--signature", default="serving_default",
                        help="serving_default (generation with the export's defaults) or "
                             "next_words (one forward pass): both take the prompt alone")
    parser.add_argument("--batching", type=Path, help="batching parameters (default: the "
                                                      "example that export writes)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    before = machine_report()
    print(f"CPU: {before['cpu']} ({before['cores']} cores); load average before: "
          f"{before['load_average_1_5_15']}{' (BUSY: other processes)' if before['busy'] else ''}",
          flush=True)
    with tempfile.TemporaryDirectory() as folder:
        base, model = (args.export, args.model) if args.export else (folder, build_export(folder))
        from rnn_pipeline.serving.batching_parameters import BATCHING_FILE, EXAMPLE

        batching = args.batching or Path(folder) / BATCHING_FILE
        if not args.batching and not batching.exists():
            batching.write_text(EXAMPLE)
        parameters = Path(batching).read_text()
        rows = cells(base, model, batching, args)
    after = machine_report()
    print(f"load average after: {after['load_average_1_5_15']}\n\n{table(rows)}")
    report = {"machine": before, "load_average_after": after["load_average_1_5_15"],
              "seconds_per_cell": args.seconds, "warmup_s": args.warmup, "prompt": args.prompt,
              "signature": args.signature,
              "batching_parameters": parameters, "rows": rows}
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
