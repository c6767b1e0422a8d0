"""Benchmark: PTB perplexity of a SimpleRNN language model with each activation, and with
gradient clipping on against off.

Every run is ``rnn-pipeline fit ptb_small --epochs 1 --set model.cell=simple_rnn`` in a
fresh process (2 x 200 units, SGD lr 20, ``global_clipnorm`` 0.25, uniform init 0.1); only
the activation or the clipping differs. A run that meets a NaN/Inf loss or gradient stops
there (exit 1) and is reported as diverged at that step. The figures per run: test
perplexity, the share of clipped steps and the median global gradient norm before clipping
(from the run's ``gradients.csv``).

``--set KEY=VALUE`` (repeatable) changes the recipe for every run, e.g. the learning rate.

Usage:
    python benchmarks/simple_rnn_activations.py --lines 10521   # a quarter of PTB's train
    python benchmarks/simple_rnn_activations.py --lines 10521 --set train.learning_rate=1.0
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from rnn_pipeline.training.gradients import read_gradient_log

ACTIVATIONS = ["tanh", "relu", "sigmoid", "leaky_relu", "gelu", "swish"]
NO_CLIPPING = ["tanh", "relu"]


def fit(run, extra, lines, overrides=()):
    command = ["rnn-pipeline", "fit", "ptb_small", "--epochs", "1", "--run-dir", str(run),
               "--set", "model.cell=simple_rnn", *extra]
    for override in overrides:
        command += ["--set", override]
    if lines:
        command += ["--set", f"data.max_lines={lines}"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    row = {"seconds": round(wall, 1), "exit_code": result.returncode}
    if result.returncode == 0:
        final = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["final"]
        row.update(test_perplexity=round(final["test_perplexity"], 2),
                   valid_perplexity=round(final["valid_perplexity"], 2), diverged=None)
    else:
        stop = re.search(r"Training stopped at step (\d+)", result.stdout + result.stderr)
        row["diverged"] = f"step {stop.group(1)}" if stop else (result.stderr[-400:] or "?")
    log = run / "gradients.csv"
    if log.is_file():
        columns = read_gradient_log(log)
        finite = columns["finite"] > 0
        row.update(steps=int(len(columns["step"])),
                   clipped_share=round(float(columns["clipped"][finite].mean()), 4),
                   median_grad_norm=round(float(np.median(columns["grad_norm"][finite])), 4),
                   max_grad_norm=round(float(columns["grad_norm"][finite].max()), 4))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=0,
                        help="data.max_lines (0: the full training split)")
    parser.add_argument("--activations", nargs="*", default=ACTIVATIONS)
    parser.add_argument("--no-clipping", nargs="*", default=NO_CLIPPING,
                        help="activations also run with global_clipnorm = none")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="extra --set KEY=VALUE for every run")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the run folders under this directory")
    args = parser.parse_args()
    runs = [(a, "on", ["--set", f"model.activation={a}"]) for a in args.activations]
    runs += [(a, "off", ["--set", f"model.activation={a}", "--set",
                         "train.global_clipnorm=none"]) for a in args.no_clipping]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for activation, clipping, extra in runs:
            run = root / f"{activation}-clip-{clipping}"
            row = {"activation": activation, "clipping": clipping,
                   **fit(run, extra, args.lines, args.overrides)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "lines": args.lines or "full", "overrides": args.overrides,
                      "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
