"""Benchmark: M4 Hourly (414 series, horizon 48): the global network against statsforecast.

The project's global forecasting model against statsforecast's models and M4's Naive2 in
the same run, on M4's official test rows.

The wide M4 files (``Hourly-train.csv``, ``Hourly-test.csv`` from the data mirror:
``$RNN_PIPELINE_DATA_MIRROR/timeseries/m4``, else ``<repo>/../shared/data/timeseries/m4``)
become one long-format CSV (unique_id, ds, y) in ``--out``: each series' training values
followed by its 48 test values. M4-info.csv (the start dates) is not in the mirror, so every
series gets hourly timestamps from 2000-01-01 00:00; the recipe uses no calendar features,
so the timestamps only order the rows.

With ``series.split = "per_series"`` and ``series.test_windows = 1`` the last 48 rows of
each series are its one test window, so the network is scored on exactly M4's test rows;
``series.valid_windows = 1`` makes the last 48 training rows its validation window (the
network never trains on them as targets). `RECIPE` is written to ``--out/m4_hourly.toml``
and fitted by ``rnn-pipeline fit`` in a fresh process per seed (``--set train.seed=S`` and
every ``--set`` given here), its output streamed to ``--out/logs/``. After each fit the
run's ``forecast_metrics.json`` (M4's sMAPE, MASE, OWA against Naive2, and the network's
MSIS and 95% coverage, on the test windows) is read, and ``rnn-pipeline evaluate RUN
--split valid`` scores the same on the validation windows (``RUN/evaluation/valid.json``),
so a recipe can be chosen without looking at the test rows.

statsforecast's models (`rnn_pipeline.tasks.forecast.series.statistical`: seasonal naive,
AutoETS, AutoARIMA, AutoTheta with season 24) see each series' whole training part, the
history the network's test window comes from, and forecast 48 steps with 95% intervals;
each model is timed and scored by `m4_metrics.m4_summary`. They take many minutes on 414
series, so their forecasts are cached in ``--out/statsforecast.npz``; ``--reuse-stats``
reads them back. Everything lands in ``--out/m4_results.json``; a markdown table is printed.

Usage (from the repository root):
    python benchmarks/m4.py                                  # 3 seeds, all 414 series
    python benchmarks/m4.py --reuse-stats --set model.units=128 --out /tmp/m4_u128
    python benchmarks/m4.py --skip-fit --reuse-stats         # re-read /tmp/m4_bench
    python benchmarks/m4.py --max-series 12 --seeds 0 --set train.epochs=1 \\
        --set model.units=8 --out /tmp/m4_smoke              # smoke run
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import time
import tomllib
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from machine import bfloat16_flags, cpu_name  # benchmarks/ is the script's folder

REPO = Path(__file__).resolve().parents[1]
HORIZON, SEASON = 48, 24  # M4 Hourly: 48 steps; MASE and Naive2 with m = 24
START = "2000-01-01 00:00"  # synthetic: M4-info.csv (the real start dates) is not mirrored
FIGURES = ("smape", "mase", "owa", "msis", "coverage_95")

RECIPE = """\
name = "m4_hourly"
task = "forecast"

[series]
csv = {csv}
id_column = "unique_id"
time_column = "ds"
targets = ["y"]
frequency = "h"
season = 24
lookback = 168
horizon = 48
stride = 4
id_embedding = 8
split = "per_series"
test_windows = 1
valid_windows = 1

[model]
cell = "gru"
units = 64
head = "direct"
distribution = "quantile"
quantiles = [0.025, 0.1, 0.5, 0.9, 0.975]
conformal = true   # the intervals calibrated on the validation windows

[train]
epochs = 10
batch_size = 256
learning_rate = 0.003
"""

# M4's official Hourly figures (414 series, h = 48), as published by the organisers in
# "Evaluation and Ranks.xlsx" of github.com/Mcompetitions/M4-methods: sheet "Point
# Forecasts-Frequency", columns sMAPE/MASE/OWA "Hourly"; sheet "Prediction
# Intervals-Frequency", column MSIS "Hourly": the organisers' evaluation behind the tables
# of Makridakis, Spiliotis & Assimakopoulos (IJF 34(4) 2018; IJF 36(1) 2020). The figures
# were read from that spreadsheet, not from the papers' PDFs; ES-RNN's three also match the
# check against "the official evaluation" in Nixtla's datasetsforecast (docs/m4), and this
# package's `m4_metrics` gives Naive2 18.383 / 2.395 and sNaive 13.912 / 1.193 / 0.627 on
# the 414 series.
# Method 118 is Smyl's ES-RNN (sheet "Methods": rank 1 for point forecasts and intervals).
# OWA is rounded to 3 decimals here (the sheet holds e.g. 0.44014 and 1.00586).
# ETS and ARIMA are M4's interval benchmarks (R's ets and auto.arima); the sheet gives them
# no point-forecast row, so only their MSIS is listed.
PUBLISHED = {
    "ES-RNN (Smyl, M4 winner)": {"smape": 9.328, "mase": 0.893, "owa": 0.440, "msis": 7.928},
    "Theta (M4 benchmark)": {"smape": 18.138, "mase": 2.455, "owa": 1.006},
    "Naive2 (M4 benchmark)": {"smape": 18.383, "mase": 2.395, "owa": 1.000},
    "sNaive (M4 benchmark)": {"smape": 13.912, "mase": 1.193, "owa": 0.627},
    "ETS (M4 interval benchmark)": {"msis": 17.487},
    "ARIMA (M4 interval benchmark)": {"msis": 7.538},
}
PUBLISHED_SOURCE = ("M4 organisers' evaluation, 'Evaluation and Ranks.xlsx' in "
                    "github.com/Mcompetitions/M4-methods (Hourly columns)")

PROTOCOL = [
    "timestamps are synthetic (hourly from 2000-01-01 00:00 for every series; M4-info.csv "
    "is not mirrored); the recipe uses no calendar features, so they only order the rows",
    "one global network for all the series (GRU with a series-id embedding), trained on "
    "their training windows (every `stride` rows); M4 entries were mostly fitted per series",
    "the network's training windows stop before each series' last 48 training rows (its "
    "validation window, for choosing the recipe); M4 entries could fit on every training row",
    "the network's test input is the last `lookback` training rows; statsforecast, MASE's "
    "scale and Naive2 use each series' whole training part, as in M4",
    "the network's 95% interval is its 0.025/0.975 quantiles (pinball loss), shifted by "
    "conformal calibration on the validation windows; MSIS and coverage as M4 defines them",
    "the network is the mean (± std) of several seeds; an M4 entry was one submission",
    "statsforecast's AutoETS/AutoARIMA/AutoTheta are not M4's R benchmarks (ets, auto.arima, "
    "classical Theta on the seasonally adjusted series)",
]


# --- data ------------------------------------------------------------------------------
def data_folder():
    mirror = os.environ.get("RNN_PIPELINE_DATA_MIRROR")
    base = Path(mirror) if mirror else REPO.parent / "shared" / "data"
    return base / "timeseries" / "m4"


def load_hourly(folder, max_series=None):
    """(ids, histories: one 1-D array per series, actual: (series, 48)) from the wide
    files; the train rows' right padding dropped."""
    train = pd.read_csv(folder / "Hourly-train.csv", index_col=0)
    test = pd.read_csv(folder / "Hourly-test.csv", index_col=0)
    if max_series:
        train, test = train.iloc[:max_series], test.iloc[:max_series]
    if list(train.index) != list(test.index):
        raise SystemExit("Hourly-train.csv and Hourly-test.csv do not list the same series "
                         "in the same order")
    actual = test.to_numpy(np.float64)
    if actual.shape[1] != HORIZON or not np.isfinite(actual).all():
        raise SystemExit(f"every test row must hold {HORIZON} values: {actual.shape}")
    histories = []
    for name, row in zip(train.index, train.to_numpy(np.float64)):
        count = int(np.isfinite(row).sum())
        if not np.isfinite(row[:count]).all():
            raise SystemExit(f"{name}: a gap inside its training values")
        histories.append(row[:count])
    return [str(i) for i in train.index], histories, actual


def write_long(path, ids, histories, actual):
    """One CSV (unique_id, ds, y): each series' training values, then its test values."""
    parts = []
    for name, history, test in zip(ids, histories, actual):
        values = np.concatenate([history, test])
        parts.append(pd.DataFrame({
            "unique_id": name,
            "ds": pd.date_range(START, periods=len(values), freq="h"),
            "y": values}))
    frame = pd.concat(parts, ignore_index=True)
    frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return len(frame)


# --- the network -----------------------------------------------------------------------
def run_logged(command, log, what):
    """Runs ``command`` with its output appended to ``log``; stops with the log's tail on
    failure. Its wall seconds."""
    start = time.perf_counter()
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(map(str, command))}\n")
        handle.flush()
        done = subprocess.run([str(c) for c in command], stdout=handle,
                              stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = "".join(Path(log).read_text(encoding="utf-8").splitlines(True)[-40:])
        raise SystemExit(f"{what} failed (exit {done.returncode}); the end of {log}:\n{tail}")
    return wall


def fit_seed(pipeline, out, seed, overrides, skip_fit):
    """Fits (or, with ``skip_fit``, re-reads) OUT/seed_S; its figures."""
    run = out / f"seed_{seed}"
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    record = logs / f"seed_{seed}.json"
    command = ["rnn-pipeline", "fit", pipeline, "--run-dir", run, "--set", f"train.seed={seed}",
               *[part for value in overrides for part in ("--set", value)]]
    if skip_fit:
        if not (run / "forecast_metrics.json").exists():
            raise SystemExit(f"--skip-fit: {run} holds no forecast_metrics.json")
        fitted = json.loads(record.read_text()) if record.exists() else {}
        print(f"seed {seed}: re-reading {run}", flush=True)
    else:
        if run.exists() and any(run.iterdir()):
            raise SystemExit(f"{run} exists: use another --out, remove it, or --skip-fit")
        log = logs / f"fit_seed_{seed}.log"
        log.write_text("", encoding="utf-8")
        print(f"seed {seed}: fitting (log {log})...", flush=True)
        wall = run_logged(command, log, f"seed {seed}: rnn-pipeline fit")
        fitted = {"command": " ".join(map(str, command)), "wall_seconds": round(wall, 1)}
        record.write_text(json.dumps(fitted, indent=2) + "\n")
    valid_json = run / "evaluation" / "valid.json"
    if not valid_json.exists():
        run_logged(["rnn-pipeline", "evaluate", run, "--split", "valid"],
                   logs / f"evaluate_seed_{seed}.log", f"seed {seed}: rnn-pipeline evaluate")
    test = json.loads((run / "forecast_metrics.json").read_text())
    valid = json.loads(valid_json.read_text())["table"]
    config = tomllib.loads((run / "config.toml").read_text())
    history = json.loads((run / "metrics.json").read_text()) \
        if (run / "metrics.json").exists() else {}
    check = history.get("final", {}).get("residual_check") or {}
    result = {"seed": seed, "run": str(run), "wall_seconds": fitted.get("wall_seconds"),
              "command": fitted.get("command"), "epochs": len(history.get("epochs", [])),
              "training_seconds": round(sum(e.get("seconds", 0.0)
                                            for e in history.get("epochs", [])), 1),
              "residual_check": {k: check.get(k) for k in ("kept", "p_value", "reason")},
              "test": test, "valid": valid, "series_config": config.get("series", {}),
              "model_config": config.get("model", {})}
    net = test[0]
    print(f"seed {seed}: {net['model']} test sMAPE {net['smape']:.3f} MASE {net['mase']:.3f} "
          f"OWA {net['owa']:.3f}{_interval_text(net)}; valid OWA {valid[0]['owa']:.3f}; "
          f"fit {_seconds(result['wall_seconds'])}{_residual_text(result)}", flush=True)
    return result


def _residual_text(result):
    """The highway's residual check (model.residual_test): whether the recurrent head's
    correction was kept; when not, the forecast's location is the linear part's."""
    check = result.get("residual_check") or {}
    if check.get("kept") is None:
        return ""
    if check["kept"]:
        return "; recurrent correction kept"
    why = check.get("reason") or (f"p = {check['p_value']:.3g}"
                                  if check.get("p_value") is not None else "")
    return f"; recurrent correction dropped ({why}): location = linear part"


def check_protocol(series):
    """Warnings where the resolved config does not give M4's test window."""
    found = []
    expected = {"horizon": HORIZON, "split": "per_series", "test_windows": 1, "season": SEASON}
    for key, value in expected.items():
        if series.get(key) != value:
            found.append(f"series.{key} = {series.get(key)!r} (M4 Hourly needs {value!r}): "
                         "the network's figures are not M4's test figures")
    if series.get("calendar"):
        found.append(f"series.calendar = {series['calendar']}: calendar features of the "
                     "synthetic timestamps carry no information")
    return found


# --- statsforecast ---------------------------------------------------------------------
def statistical(histories, ids, names, cache, reuse, n_jobs):
    """{name: {"mean", "lower", "upper", "fallback", "seconds"}}, from the cache where
    ``reuse`` and it holds the model for these series, otherwise fitted (and cached)."""
    import statsforecast.models  # noqa: F401  (imported before the first timing)

    from rnn_pipeline.tasks.forecast.series.statistical import statistical_forecasts

    stored = {}
    if reuse and cache.exists():
        with np.load(cache, allow_pickle=False) as saved:
            same = (list(saved["ids"]) == ids and int(saved["horizon"]) == HORIZON
                    and int(saved["season"]) == SEASON)
            if not same:
                raise SystemExit(f"--reuse-stats: {cache} was made for other series "
                                 f"({len(saved['ids'])} series); run without --reuse-stats")
            for name in [str(n) for n in saved["names"]]:
                stored[name] = {key: saved[f"{name}/{key}"] if f"{name}/{key}" in saved
                                else None for key in ("mean", "lower", "upper", "fallback")}
                stored[name]["seconds"] = float(saved[f"{name}/seconds"])
        print(f"statsforecast: reusing {', '.join(n for n in names if n in stored) or 'none'} "
              f"from {cache}", flush=True)
    elif reuse:
        print(f"statsforecast: --reuse-stats but no {cache}; fitting", flush=True)
    found = {}
    for name in names:
        if name in stored:
            found[name] = stored[name]
            continue
        start = time.perf_counter()
        table = statistical_forecasts(histories, HORIZON, SEASON, level=95, names=[name],
                                      n_jobs=n_jobs, progress=lambda line: print(line, flush=True))
        found[name] = {**table[name], "seconds": time.perf_counter() - start}
        stored[name] = found[name]
        _save_cache(cache, ids, stored)  # after each model: an interrupted run keeps them
    return found


def _save_cache(cache, ids, stored):
    arrays = {"ids": np.array(ids), "names": np.array(list(stored)),
              "horizon": np.array(HORIZON), "season": np.array(SEASON)}
    for name, columns in stored.items():
        for key in ("mean", "lower", "upper", "fallback"):
            if columns.get(key) is not None:
                arrays[f"{name}/{key}"] = np.asarray(columns[key])
        arrays[f"{name}/seconds"] = np.array(columns["seconds"])
    partial = cache.with_name(cache.stem + ".partial.npz")
    np.savez_compressed(partial, **arrays)
    partial.replace(cache)


# --- summaries -------------------------------------------------------------------------
def seed_summary(runs, key):
    """Per figure of the network's first row over the seeds: mean and std (``key``: "test"
    or "valid"); the wall time too for "test"."""
    entry = {}
    for figure in FIGURES:
        values = [r[key][0][figure] for r in runs if r[key][0].get(figure) is not None]
        if values:
            entry[figure] = float(np.mean(values))
            entry[f"{figure}_std"] = float(np.std(values))
    walls = [r["wall_seconds"] for r in runs if r.get("wall_seconds") is not None]
    if key == "test" and walls:
        entry["wall_seconds"] = float(np.mean(walls))
        entry["wall_seconds_std"] = float(np.std(walls))
    return entry


def _interval_text(row):
    if row.get("msis") is None:
        return ""
    return f" MSIS {row['msis']:.3f} 95% in {row['coverage_95']:.1%}"


def _seconds(value):
    return "-" if value is None else f"{value:.1f} s"


def _cell(row, figure, std=False):
    value = row.get(figure)
    if value is None:
        return "-"
    if figure == "coverage_95":
        text = f"{100 * value:.1f}%"
        spread = row.get(f"{figure}_std")
        return text + (f" ± {100 * spread:.1f}" if std and spread is not None else "")
    text = f"{value:.3f}"
    spread = row.get(f"{figure}_std")
    return text + (f" ± {spread:.3f}" if std and spread is not None else "")


def markdown(rows):
    """rows: (label, source, figures dict, show std, seconds) -> markdown lines."""
    lines = ["| model | source | sMAPE | MASE | OWA | MSIS | 95% coverage | wall |",
             "|---|---|---|---|---|---|---|---|"]
    for label, source, figures, std, seconds in rows:
        cells = [_cell(figures, f, std) for f in FIGURES]
        lines.append(f"| {label} | {source} | {' | '.join(cells)} | {seconds} |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/m4_bench", help="output folder")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated train.seed values")
    parser.add_argument("--max-series", type=int, default=None,
                        help="only the first N series (smoke runs)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="KEY=VALUE passed to every `rnn-pipeline fit --set` (repeatable)")
    parser.add_argument("--no-stats", action="store_true", help="skip statsforecast's models")
    parser.add_argument("--reuse-stats", action="store_true",
                        help="read statsforecast's forecasts from OUT/statsforecast.npz")
    parser.add_argument("--stats-models", default="",
                        help="comma-separated statsforecast model names (default: those of "
                             "the wrapper's models_for(24))")
    parser.add_argument("--stats-jobs", type=int, default=2,
                        help="statsforecast's worker processes")
    parser.add_argument("--skip-fit", action="store_true",
                        help="re-read the existing OUT/seed_S folders instead of fitting")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    from rnn_pipeline.tasks.forecast.series.m4_metrics import m4_summary, naive2_forecasts

    when = datetime.datetime.now().isoformat(timespec="seconds")
    flags = bfloat16_flags()
    tf_version = _version("tensorflow")
    machine_line = (f"{cpu_name()} (bf16 flags: {', '.join(flags) or 'none'}), "
                    f"{os.cpu_count()} cores, {platform.machine()}; {when}; "
                    f"TensorFlow {tf_version}, statsforecast {_version('statsforecast')}")
    print(f"machine: {machine_line}", flush=True)

    folder = data_folder()
    ids, histories, actual = load_hourly(folder, args.max_series)
    lengths = sorted({len(h) for h in histories})
    csv = out / "m4_hourly_long.csv"
    rows = write_long(csv, ids, histories, actual)
    pipeline = out / "m4_hourly.toml"
    pipeline.write_text(RECIPE.format(csv=json.dumps(csv.as_posix())), encoding="utf-8")
    print(f"data: {len(ids)} series from {folder} (training lengths {lengths}, + {HORIZON} "
          f"test rows each) -> {csv} ({rows:,} rows); pipeline {pipeline}", flush=True)

    # the script's own references on the same series: M4's Naive2 and seasonal naive
    naive2 = naive2_forecasts(histories, HORIZON, SEASON)  # (series, 48)
    seasonal = np.stack([np.resize(h[-SEASON:], HORIZON) for h in histories])
    references = {"naive2": m4_summary(naive2, actual, histories, SEASON,
                                       naive2_forecast=naive2),
                  "seasonal_naive": m4_summary(seasonal, actual, histories, SEASON,
                                               naive2_forecast=naive2)}

    runs = [fit_seed(pipeline, out, seed, args.overrides, args.skip_fit) for seed in seeds]
    warnings = check_protocol(runs[0]["series_config"]) if runs else []
    for warning in warnings:
        print(f"WARNING: {warning}", flush=True)

    stats, stats_note = {}, None
    if not args.no_stats:
        from rnn_pipeline.tasks.forecast.series.statistical import availability, models_for

        available, reason = availability()
        if available:
            names = [n for n in args.stats_models.split(",") if n] or models_for(SEASON)
            forecasts = statistical(histories, ids, names, out / "statsforecast.npz",
                                    args.reuse_stats, args.stats_jobs)
            for name, columns in forecasts.items():
                scores = m4_summary(columns["mean"], actual, histories, SEASON,
                                    columns.get("lower"), columns.get("upper"),
                                    naive2_forecast=naive2)
                fallback = columns.get("fallback")
                stats[name] = {**scores, "seconds": columns["seconds"],
                               "fallback_series": int(np.sum(fallback))
                               if fallback is not None else 0}
        else:
            stats_note = reason
            print(f"statsforecast skipped: {reason}", flush=True)

    # the run's own table (seed 0): the network's linear part, the baselines and Naive2
    first = runs[0]["test"] if runs else []
    net_name = first[0]["model"] if first else "network"
    same_run = {row["model"]: row for row in first[1:]}
    pipeline_naive2 = same_run.get("naive2", {})
    naive2_check = None
    if pipeline_naive2:
        naive2_check = {"pipeline": pipeline_naive2["smape"],
                        "script": references["naive2"]["smape"]}
        if abs(naive2_check["pipeline"] - naive2_check["script"]) > 1e-3:
            print(f"WARNING: Naive2's sMAPE on the network's test windows "
                  f"({naive2_check['pipeline']:.4f}) differs from the script's on M4's test "
                  f"rows ({naive2_check['script']:.4f}): the windows are not M4's",
                  flush=True)

    test_summary = seed_summary(runs, "test")
    valid_summary = seed_summary(runs, "valid")
    linear = [r["test"][1] for r in runs if len(r["test"]) > 1
              and r["test"][1]["model"].endswith("linear part")]
    linear_summary = {f: float(np.mean([row[f] for row in linear])) for f in
                      ("smape", "mase", "owa")} if linear else None
    if linear:
        linear_summary.update({f"{f}_std": float(np.std([row[f] for row in linear]))
                               for f in ("smape", "mase", "owa")})

    # ---- the report ----
    full = len(ids) == 414
    seeds_text = ",".join(map(str, seeds))
    print("\n## M4 Hourly\n")
    print(f"machine: {machine_line}")
    subset = "" if full else " (a subset: --max-series; the published figures are on all 414)"
    refit = " (--skip-fit: see the fit command)" if args.skip_fit else ""
    print(f"series: {len(ids)}{subset}; horizon {HORIZON}, season {SEASON}; seeds {seeds_text}; "
          f"overrides: {' '.join(args.overrides) or 'none'}{refit}")
    if runs and runs[0].get("command"):
        print(f"fit command (seed {runs[0]['seed']}): {runs[0]['command']}")
    print("\nper seed (test = M4's test rows; valid = the last 48 training rows):")
    for r in runs:
        t, v = r["test"][0], r["valid"][0]
        print(f"  seed {r['seed']}: test sMAPE {t['smape']:.3f} MASE {t['mase']:.3f} "
              f"OWA {t['owa']:.3f}{_interval_text(t)} | valid sMAPE {v['smape']:.3f} "
              f"OWA {v['owa']:.3f} | {r['epochs']} epochs ({r['training_seconds']:.1f} s "
              f"training), fit {_seconds(r['wall_seconds'])}{_residual_text(r)}")
    several = len(runs) > 1
    label = (f"{net_name} (mean ± std, {len(runs)} seeds)" if several
             else f"{net_name} (seed {seeds_text})")
    table = [(label, "this run, test", test_summary, several,
              _seconds(test_summary.get("wall_seconds")))]
    if linear_summary:
        table.append((f"{net_name} linear part", "this run, test", linear_summary, several,
                      "-"))
    for name, row in stats.items():
        fell = f", Naive fallback on {row['fallback_series']}" if row["fallback_series"] else ""
        table.append((f"statsforecast {name}", f"this run, test{fell}", row, False,
                      _seconds(row["seconds"])))
    for name, row in same_run.items():
        if name.endswith("linear part"):
            continue
        table.append((name, "this run (pipeline, seed " f"{runs[0]['seed']})", row, False, "-"))
    for name, row in PUBLISHED.items():
        table.append((name, "M4 published", row, False, "-"))
    table.append((label, "this run, valid", valid_summary, several, "-"))
    print()
    print("\n".join(markdown(table)))
    kept = [r["residual_check"].get("kept") for r in runs]
    if any(k is not None for k in kept):
        print(f"\nresidual check: the recurrent correction to the linear highway was kept in "
              f"{sum(bool(k) for k in kept)} of {len(runs)} seeds (where dropped, the "
              f"network's point forecast is its linear part's; its interval keeps its "
              f"trained spread)")
    print(f"\nM4 published figures: {PUBLISHED_SOURCE}.")
    print(f"Naive2 check: the script's Naive2 on M4's test rows sMAPE "
          f"{references['naive2']['smape']:.3f} MASE {references['naive2']['mase']:.3f}"
          + (f"; the pipeline's on its test windows sMAPE {naive2_check['pipeline']:.3f}"
             if naive2_check else "")
          + ("; published 18.383 / 2.395" if full else ""))
    if stats_note:
        print(f"statsforecast: {stats_note}")
    print("\nprotocol differences from M4:")
    for line in PROTOCOL:
        print(f"- {line}")
    for warning in warnings:
        print(f"- WARNING: {warning}")

    report = {
        "benchmark": "M4 Hourly", "date": when, "machine": machine_line, "cpu": cpu_name(),
        "bfloat16_flags": flags, "cores": os.cpu_count(), "tensorflow": tf_version,
        "statsforecast": _version("statsforecast"), "series": len(ids), "ids": ids,
        "horizon": HORIZON, "season": SEASON, "seeds": seeds, "overrides": args.overrides,
        "pipeline": pipeline.read_text(encoding="utf-8"), "long_csv": str(csv),
        "network": {"name": net_name, "test": test_summary, "valid": valid_summary,
                    "linear_part": linear_summary},
        "per_seed": runs, "statsforecast_models": stats, "statsforecast_note": stats_note,
        "script_references": references, "naive2_check": naive2_check,
        "published": PUBLISHED, "published_source": PUBLISHED_SOURCE,
        "protocol_differences": PROTOCOL, "warnings": warnings,
    }
    results = out / "m4_results.json"
    results.write_text(json.dumps(report, indent=2, default=_json_default) + "\n",
                       encoding="utf-8")
    print(f"\nwritten: {results}")


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    main()
