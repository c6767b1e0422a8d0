"""Benchmark: a forecasting pipeline at several horizons, against its baselines.

Runs ``rnn-pipeline fit PIPELINE --set series.horizon=H`` in a fresh process per horizon
and reports, per horizon, the test MSE/MAE (scaled) of the model and of every baseline
computed on the same windows, plus the wall time.

Usage:
    python benchmarks/forecast_horizons.py etth1_segment --horizons 96 192 336 720
    python benchmarks/forecast_horizons.py airline_passengers --horizons 12
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline")
    parser.add_argument("--horizons", type=int, nargs="+", required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="extra --set KEY=VALUE for every run")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for horizon in args.horizons:
            run = Path(tmp) / f"h{horizon}"
            command = ["rnn-pipeline", "fit", args.pipeline, "--run-dir", str(run),
                       "--set", f"series.horizon={horizon}"]
            for override in args.overrides:
                command += ["--set", override]
            start = time.perf_counter()
            subprocess.run(command, check=True)
            wall = time.perf_counter() - start
            table = json.loads((run / "forecast_metrics.json").read_text())
            row = {"horizon": horizon, "wall_seconds": round(wall, 1),
                   "table": [{k: (round(v, 4) if isinstance(v, float) else v)
                              for k, v in r.items()} for r in table]}
            results.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"pipeline": args.pipeline, "date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "command_overrides": args.overrides, "results": results}, indent=2))


if __name__ == "__main__":
    main()
