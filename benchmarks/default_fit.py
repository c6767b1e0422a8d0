"""Benchmark: the embedded default pipeline, end to end, as a user runs it.

Runs ``rnn-pipeline fit`` (no arguments besides a temporary run folder) in a fresh
process, measures its wall time, and reports perplexities against the unigram
baseline that the same run computed on the same splits.

Usage:
    python benchmarks/default_fit.py [--budget-seconds 180]
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-seconds", type=float, default=180.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        start = time.perf_counter()
        subprocess.run(["rnn-pipeline", "fit", "--run-dir", str(run_dir)], check=True)
        wall = time.perf_counter() - start
        final = json.loads((run_dir / "metrics.json").read_text())["final"]
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "wall_seconds": round(wall, 1),
        "budget_seconds": args.budget_seconds,
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in final.items()},
    }
    print(json.dumps(report, indent=2))
    ok = wall <= args.budget_seconds and \
        final["valid_perplexity"] < 0.5 * final["unigram_valid_perplexity"]
    print("PASS" if ok else "FAIL", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
