"""Benchmark: one default forecasting recipe on many public series, against seasonal naive
and the linear baselines, with no per-series tuning.

The series ship inside sktime and pmdarima (``pip install -e '.[bench]'``), so nothing is
downloaded. Each is written to a CSV and trained with ``rnn-pipeline fit`` in a fresh
process. The recipe depends only on the series' frequency (its season and a horizon and
lookback per frequency, `RECIPES`): a 32-unit GRU, the `direct` head with its linear
highway, a Gaussian forecast (so CRPS and interval coverage are measured), instance norm
"last", Adam 0.005, at most 100 epochs with early stopping after 10 on the validation
loss; splits by fractions (valid 15%, test 20%, in time order).

Reported per series, on the test windows: MASE and CRPS (scaled axis; a point forecast's
CRPS is its MAE) of the model, seasonal naive and the linear baselines (Linear, NLinear,
DLinear, fitted by least squares on the training windows), the 80%/95% coverage, and
whether the model beats seasonal naive and the best linear baseline on MASE.

With ``--without-test`` each series first loses its test rows (the last 20%) and the rest
is split again the same way: a recipe change can then be judged on rows the real
benchmark never tests on (the nested check, as in `highway_selection.py`).

Usage:
    python benchmarks/many_series.py [--seeds 1] [--only airline,lynx] [--without-test]
        [--set model.distribution=none ...]
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
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import forecast_horizons  # noqa: E402  (the mean and std over seeds)

# frequency -> (season, horizon, lookback): the whole recipe's dependence on the series
RECIPES = {"YS": (1, 4, 8), "QS": (4, 8, 16), "MS": (12, 12, 24), "30min": (48, 48, 96)}
LINEAR = ("linear", "nlinear", "dlinear")
VALID_FRACTION, TEST_FRACTION = 0.15, 0.2  # the pipeline's series fractions

PIPELINE = """
name = "{name}"
task = "forecast"
[series]
csv = "{csv}"
time_column = "date"
targets = ["value"]
frequency = "{frequency}"
season = {season}
lookback = {lookback}
horizon = {horizon}
valid_fraction = {valid_fraction}
test_fraction = {test_fraction}
instance_norm = "last"
[model]
cell = "gru"
units = 32
num_layers = 1
head = "direct"
highway = true
distribution = "gaussian"
[train]
epochs = 100
batch_size = 32
optimizer = "adam"
learning_rate = 0.005
early_stopping = 10
seed = {seed}
"""


def _periods(series):
    """A PeriodIndex series -> values at the periods' start timestamps."""
    return pd.Series(series.to_numpy(float), index=series.index.to_timestamp(how="start"))


def _dated(values, start, frequency):
    return pd.Series(np.asarray(values, float),
                     index=pd.date_range(start, periods=len(values), freq=frequency))


def load_all():
    """{name: (frequency, source, values indexed by timestamps)}."""
    warnings.filterwarnings("ignore")
    from pmdarima import datasets as pm
    from sktime import datasets as sk

    return {
        "airline": ("MS", "sktime load_airline", _periods(sk.load_airline())),
        "pbs": ("MS", "sktime load_PBS_dataset", _periods(sk.load_PBS_dataset())),
        "lynx": ("YS", "sktime load_lynx", _periods(sk.load_lynx())),
        "realgdp": ("QS", "sktime load_macroeconomic['realgdp']",
                    _periods(sk.load_macroeconomic()["realgdp"])),
        "wineind": ("MS", "pmdarima load_wineind",
                    _dated(pm.load_wineind(as_series=True), "1980-01-01", "MS")),
        "woolyrnq": ("QS", "pmdarima load_woolyrnq",
                     _dated(pm.load_woolyrnq(as_series=True), "1965-01-01", "QS")),
        "austres": ("QS", "pmdarima load_austres",
                    _dated(pm.load_austres(as_series=True), "1971-04-01", "QS")),
        "sunspots": ("MS", "pmdarima load_sunspots",
                     _dated(pm.load_sunspots(as_series=True), "1749-01-01", "MS")),
        "taylor": ("30min", "pmdarima load_taylor (from Monday 2000-06-05)",
                   _dated(pm.load_taylor(as_series=True), "2000-06-05", "30min")),
    }


def without_test(values):
    """The series without its test rows (the last `TEST_FRACTION`): the nested check."""
    return values.iloc[:len(values) - round(len(values) * TEST_FRACTION)]


def run_series(name, frequency, values, seed, folder, overrides=()):
    season, horizon, lookback = RECIPES[frequency]
    csv = Path(folder) / f"{name}.csv"
    pd.DataFrame({"date": values.index, "value": values.to_numpy()}).to_csv(csv, index=False)
    pipeline = Path(folder) / f"{name}.toml"
    pipeline.write_text(PIPELINE.format(name=name, csv=csv.as_posix(), frequency=frequency,
                                        season=season, lookback=lookback, horizon=horizon,
                                        seed=seed, valid_fraction=VALID_FRACTION,
                                        test_fraction=TEST_FRACTION))
    run = Path(folder) / f"{name}_s{seed}"
    start = time.perf_counter()
    command = ["rnn-pipeline", "fit", str(pipeline), "--run-dir", str(run)]
    for override in overrides:
        command += ["--set", override]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    table = json.loads((run / "forecast_metrics.json").read_text())
    check = json.loads((run / "metrics.json").read_text())["final"]["residual_check"]
    table[0]["residual kept"] = check["kept"]
    table[0]["residual p"] = check["p_value"] if check["statistic"] is not None else None
    return table, time.perf_counter() - start


def summarise(name, frequency, source, values, tables, walls):
    season, horizon, lookback = RECIPES[frequency]
    rows = {row["model"]: row for row in forecast_horizons.summarise(tables)}
    model = tables[0][0]["model"]
    entry = {"series": name, "source": source, "frequency": frequency, "rows": len(values),
             "season": season, "horizon": horizon, "lookback": lookback,
             "test_windows": tables[0][0]["windows"], "seeds": len(tables),
             "wall_seconds": [round(w, 1) for w in walls]}
    for forecaster in (model, "seasonal_naive", *LINEAR):
        label = "model" if forecaster == model else forecaster
        entry[f"mase {label}"] = rows[forecaster].get("mase")
        entry[f"crps {label}"] = rows[forecaster].get("crps")
    entry["mase model std"] = rows[model]["mase_std"]
    entry["mase linear part"] = rows.get(f"{model} linear part", {}).get("mase")
    entry["residual kept (seeds)"] = sum(table[0]["residual kept"] for table in tables)
    entry["residual p (seeds)"] = [table[0]["residual p"] for table in tables]
    entry["coverage_80"] = rows[model].get("coverage_80")
    entry["coverage_95"] = rows[model].get("coverage_95")
    best_linear = min(entry[f"mase {k}"] for k in LINEAR)
    entry["beats seasonal naive"] = entry["mase model"] < entry["mase seasonal_naive"]
    entry["beats best linear"] = entry["mase model"] < best_linear
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="train.seed 0 .. N-1")
    parser.add_argument("--only", default="", help="comma-separated series names")
    parser.add_argument("--without-test", action="store_true",
                        help="drop each series' last 20%% of rows first (the nested check)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="extra --set KEY=VALUE for every fit")
    args = parser.parse_args()
    series = load_all()
    names = [n for n in args.only.split(",") if n] or list(series)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            frequency, source, values = series[name]
            if args.without_test:
                values = without_test(values)
            runs = [run_series(name, frequency, values, seed, folder, args.overrides)
                    for seed in range(args.seeds)]
            entry = summarise(name, frequency, source, values, [t for t, _ in runs],
                              [w for _, w in runs])
            results.append(entry)
            print(json.dumps(entry), flush=True)
    wins = {key: sum(r[key] for r in results) for key in ("beats seasonal naive",
                                                          "beats best linear")}
    print(json.dumps({"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "seeds": args.seeds, "without_test": args.without_test,
                      "overrides": args.overrides, "series": len(results), "wins": wins,
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
