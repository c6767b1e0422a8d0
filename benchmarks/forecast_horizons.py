"""Benchmark: a forecasting pipeline at several horizons and seeds, against its baselines.

Runs ``rnn-pipeline fit PIPELINE --set series.horizon=H --set train.seed=S`` in a fresh
process per horizon and seed, and reports per horizon the test MSE/MAE (scaled) of the
model and of every baseline computed on the same windows (``linear``, ``nlinear``,
``dlinear``, ``seasonal_naive``, ``repeat``, ...), as the mean and standard deviation over
the seeds, the model's CRPS and interval coverage where it forecasts a distribution, and
the wall time. The baselines are fitted by least squares, so they do not vary with the
seed. For ETTh1/ETTm1 the published DLinear MSE (Zeng et al. 2023, Table 2, lookback 336)
is printed beside the same-run figures, with the run's own lookback.

Usage:
    python benchmarks/forecast_horizons.py etth1_segment --horizons 96 192 336 720 --seeds 3
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

import numpy as np

# DLinear's published test MSE (Zeng et al., AAAI 2023, Table 2; lookback 336).
PUBLISHED_DLINEAR = {"etth1": {96: 0.375, 192: 0.405, 336: 0.439, 720: 0.472},
                     "ettm1": {96: 0.299, 192: 0.335, 336: 0.369, 720: 0.425}}
FIGURES = ("mse", "mae", "mase", "crps", "coverage_80", "coverage_95")


def summarise(tables):
    """One row per forecaster: mean and std over the seeds of every figure."""
    rows = {}
    for table in tables:
        for row in table:
            rows.setdefault(row["model"], []).append(row)
    summary = []
    for name, runs in rows.items():
        entry = {"model": name, "seeds": len(runs)}
        for key in FIGURES:
            values = [r[key] for r in runs if r.get(key) is not None]
            if values:
                entry[key] = round(float(np.mean(values)), 4)
                entry[f"{key}_std"] = round(float(np.std(values)), 4)
        summary.append(entry)
    return summary


def run_once(pipeline, horizon, seed, overrides, folder):
    run = Path(folder) / f"h{horizon}_s{seed}"
    command = ["rnn-pipeline", "fit", pipeline, "--run-dir", str(run),
               "--set", f"series.horizon={horizon}", "--set", f"train.seed={seed}"]
    for override in overrides:
        command += ["--set", override]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - start
    from rnn_pipeline.runs import RunFolder

    series = RunFolder(run).load_config().series  # resolved: the dataset's defaults applied
    return json.loads((run / "forecast_metrics.json").read_text()), wall, series


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline")
    parser.add_argument("--horizons", type=int, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, default=1, help="train.seed 0 .. N-1 per horizon")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="extra --set KEY=VALUE for every run")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for horizon in args.horizons:
            tables, walls = [], []
            for seed in range(args.seeds):
                table, wall, series = run_once(args.pipeline, horizon, seed, args.overrides,
                                               folder)
                tables.append(table)
                walls.append(round(wall, 1))
            row = {"horizon": horizon, "lookback": series.lookback, "wall_seconds": walls,
                   "summary": summarise(tables),
                   "published_dlinear_mse_lookback_336": PUBLISHED_DLINEAR.get(
                       series.dataset, {}).get(horizon),
                   "per_seed": [[{k: (round(v, 4) if isinstance(v, float) else v)
                                  for k, v in r.items()} for r in t] for t in tables]}
            results.append(row)
            print(json.dumps({k: row[k] for k in ("horizon", "lookback", "wall_seconds",
                                                  "summary")}), flush=True)
    print(json.dumps({"pipeline": args.pipeline, "date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "seeds": args.seeds, "command_overrides": args.overrides,
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
