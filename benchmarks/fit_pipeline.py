"""Benchmark: one bundled pipeline, end to end, as a user runs it.

Runs ``rnn-pipeline fit PIPELINE`` in a fresh process, measures its wall time (start-up,
data preparation, training, final evaluation of every split and the run-folder writes),
and reports perplexities next to the unigram baseline that the same run computed on
the same splits, the test perplexity also read as one stream (batch 1, the protocol of
Zaremba et al. and TensorFlow's PTB tutorial), plus a generated sample.

Usage:
    python benchmarks/fit_pipeline.py default --budget-seconds 180
    python benchmarks/fit_pipeline.py ptb_small --budget-seconds 1500 --target-test-ppl 116
    python benchmarks/fit_pipeline.py ptb_small --set 'train.precision="float32"'
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", nargs="?", default="default")
    parser.add_argument("--budget-seconds", type=float, default=None)
    parser.add_argument("--target-test-ppl", type=float, default=None)
    parser.add_argument("--prompt", default="the")
    parser.add_argument("--max-tokens", type=int, default=40, help="length of the sample")
    parser.add_argument("--run-dir", default=None, help="keep the run here (default: a temp dir)")
    parser.add_argument("--set", action="append", default=[], dest="overrides",
                        help="KEY=VALUE passed to `rnn-pipeline fit --set` (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(args.run_dir or Path(tmp) / "run")
        start = time.perf_counter()
        overrides = [part for value in args.overrides for part in ("--set", value)]
        subprocess.run(["rnn-pipeline", "fit", args.pipeline, "--run-dir", str(run_dir),
                        *overrides], check=True)
        wall = time.perf_counter() - start
        metrics = json.loads((run_dir / "metrics.json").read_text())
        subprocess.run(
            ["rnn-pipeline", "evaluate", str(run_dir), "--split", "test", "--batch-size", "1"],
            check=True, capture_output=True, text=True)
        one_stream = json.loads((run_dir / "evaluation" / "test.json").read_text())
        sample = subprocess.run(
            ["rnn-pipeline", "generate", str(run_dir), "--prompt", args.prompt,
             "--max-tokens", str(args.max_tokens), "--sampler", "top_k", "--top-k", "10", "--seed", "0"],
            check=True, capture_output=True, text=True).stdout
    final = metrics["final"]
    report = {
        "pipeline": args.pipeline,
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "cpu": machine.cpu_name(), "bfloat16_flags": machine.bfloat16_flags(),
        "overrides": args.overrides,
        "wall_seconds": round(wall, 1),
        "training_seconds": round(sum(row["seconds"] for row in metrics["epochs"]), 1),
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in final.items()},
        "test_one_stream": round(one_stream["perplexity"], 2),
        "epochs": [{k: float(f"{v:.4g}") for k, v in row.items()} for row in metrics["epochs"]],
        "sample": sample,
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    ok = final["valid_perplexity"] < final["unigram_valid_perplexity"]
    if args.budget_seconds is not None:
        ok &= wall <= args.budget_seconds
    if args.target_test_ppl is not None:
        ok &= final["test_perplexity"] <= args.target_test_ppl
    print("PASS" if ok else "FAIL", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
