"""Benchmark: choosing the highway on validation against its default fit, judged without
the test rows (a nested check).

Each many-series series (`many_series.load_all`) loses its test rows (the last 20%); what
is left is split again the same way (valid 15%, test 20%, lookback and horizon of
`many_series.RECIPES`). On those inner splits the highway of a `Forecaster` is fitted to
the inner training windows either by default (penalty 1e-3 toward zero) or with its
penalty and prior chosen on the inner validation windows (`highway.fit_highway`), and
its forecast alone (`linear_part`) is scored on the inner test windows against Linear,
NLinear, DLinear and seasonal naive fitted on the inner training windows. The rows scored
are the real benchmark's training and validation rows, so a rule chosen here has not seen
its test rows.

Reported per series: the inner validation windows and the MAE of each rule divided by the
best linear baseline's (below 1 beats it).

With ``--alternatives`` two more rules are scored, neither of them the workflow's: the
mean of the weights of the 2 candidates best on validation (a combination instead of a
choice), and the choice by rolling origin (the validation windows plus up to 2 earlier
blocks of as many training windows, each scored by a fit on the windows before it).

Usage:
    python benchmarks/highway_selection.py [--alternatives]
"""

import datetime
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import many_series  # noqa: E402  (the series and the recipe)

from rnn_pipeline.tasks.forecast.highway import (fit_highway, highway_problem,  # noqa: E402
                                                 set_highway)
from rnn_pipeline.tasks.forecast.model import Forecaster  # noqa: E402
from rnn_pipeline.tasks.forecast.series.baselines import (BASELINES, RIDGES,  # noqa: E402
                                                          highway_priors, moments, ridge_solve)
from rnn_pipeline.tasks.forecast.series.splits import fraction_ranges  # noqa: E402
from rnn_pipeline.tasks.forecast.series.windows import window_arrays  # noqa: E402


def inner_splits(values, lookback, horizon):
    """The series (`many_series.without_test`) split again: {split: (history, future)}, raw."""
    kept = values.astype(np.float32)
    ranges = fraction_ranges(len(kept), lookback, many_series.VALID_FRACTION,
                             many_series.TEST_FRACTION)
    return {name: window_arrays(kept[start:end, None], 1, lookback, horizon)
            for name, (start, end) in ranges.items()}, kept[slice(*ranges.train)]


def candidate_errors(model, train, folds, season):
    """{(prior, penalty): (summed validation SSE over ``folds``, weights fitted on all of
    ``train``)}; each fold is (windows fitted, windows scored), in the highway's units."""
    priors = highway_priors(model.task_config["lookback"], model.task_config["horizon"],
                            season)
    train_moments = moments(*train)  # once for every candidate
    found = {(p, r): [0.0, ridge_solve(*train_moments, r, priors[p])]
             for p in priors for r in RIDGES}
    for fitted, scored in folds:
        gram, moment = moments(*fitted)
        for (prior, penalty), entry in found.items():
            weights = ridge_solve(gram, moment, penalty, priors[prior])
            entry[0] += float(np.sum(np.square(scored[0] @ weights[:-1] + weights[-1]
                                               - scored[1])))
    return found


def alternatives(model, splits, season):
    """{rule: highway weights} of the two rules of ``--alternatives``."""
    horizon = model.task_config["horizon"]
    train = highway_problem(model, *splits["train"])
    valid = highway_problem(model, *splits["valid"])
    per_window = len(train[0]) // len(splits["train"][0])  # rows of one window
    size, end, folds = len(splits["valid"][0]), len(splits["train"][0]), [(train, valid)]
    while len(folds) < 3 and end - size - horizon + 1 >= size:  # earlier blocks, no overlap
        start = end - size
        rows = slice(start * per_window, end * per_window)
        before = slice(0, (start - horizon + 1) * per_window)
        folds.append(((train[0][before], train[1][before]), (train[0][rows], train[1][rows])))
        end = start
    ranked = sorted(candidate_errors(model, train, folds[:1], season).values(),
                    key=lambda entry: entry[0])
    rolling = min(candidate_errors(model, train, folds, season).values(),
                  key=lambda entry: entry[0])
    return {"mean of the 2 best": (ranked[0][1] + ranked[1][1]) / 2,
            "rolling origin": rolling[1]}


def score(values, season, horizon, lookback, extra=False):
    """{"valid windows": n, forecaster: inner test MAE} for one series."""
    splits, train_rows = inner_splits(values, lookback, horizon)
    mean, std = train_rows.mean(keepdims=True), train_rows.std(keepdims=True)
    test_history, test_future = splits["test"]
    mae = {}
    for name in ("linear", "nlinear", "dlinear", "seasonal_naive"):
        baseline = BASELINES.get(name)(season) if name == "seasonal_naive" \
            else BASELINES.get(name)()
        history, future = splits["train"]
        baseline.fit((history - mean) / std, (future - mean) / std)
        forecast = baseline.predict((test_history - mean) / std, horizon, 1) * std + mean
        mae[name] = float(np.mean(np.abs(forecast - test_future)))
    model = Forecaster(lookback, horizon, 1, 1, mean, std, units=4, highway=True)
    for rule, valid in (("default fit", None), ("chosen on validation", splits["valid"])):
        fit_highway(model, *splits["train"], valid=valid, season=season)
        mae[rule] = float(np.mean(np.abs(model.linear_part(test_history) - test_future)))
    for rule, weights in (alternatives(model, splits, season) if extra else {}).items():
        set_highway(model, weights)
        mae[rule] = float(np.mean(np.abs(model.linear_part(test_history) - test_future)))
    return {"valid windows": len(splits["valid"][0]), **mae}


def main():
    extra = "--alternatives" in sys.argv[1:]
    rows = []
    for name, (frequency, _, values) in many_series.load_all().items():
        season, horizon, lookback = many_series.RECIPES[frequency]
        mae = score(many_series.without_test(values).to_numpy(), season, horizon, lookback,
                    extra)
        best = min(mae[k] for k in many_series.LINEAR)
        row = {"series": name, "valid windows": mae.pop("valid windows")}
        row.update({f"{k} / best linear": round(v / best, 3) for k, v in mae.items()})
        rows.append(row)
        print(json.dumps(row), flush=True)
    rules = ("default fit", "chosen on validation",
             *(("mean of the 2 best", "rolling origin") if extra else ()))
    wins = {rule: sum(r[f"{rule} / best linear"] < 1 for r in rows) for rule in rules}
    means = {rule: round(float(np.mean([r[f"{rule} / best linear"] for r in rows])), 3)
             for rule in rules}
    print(json.dumps({"date": datetime.date.today().isoformat(), "wins over best linear": wins,
                      "mean ratio": means, "series": rows}, indent=2))


if __name__ == "__main__":
    main()
