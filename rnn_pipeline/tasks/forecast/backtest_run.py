"""``rnn-pipeline backtest``: fit (once, or before each origin), score every origin
(`backtest.score_origins`) and write the tables and the plot into one folder, whole or not
at all."""

import csv
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tasks.forecast.backtest import score_origins

WINDOWS_CSV, SERIES_CSV, ORIGINS_CSV = "windows.csv", "by_series.csv", "by_origin.csv"
SUMMARY_JSON, ERROR_PNG = "summary.json", "error_by_origin.png"


def backtest_target(target, overrides, out):
    """What a backtest reads and writes, checked before TensorFlow starts.

    Returns:
        (the `ForecastConfig`, the run folder or None for a pipeline, the new output
        folder: ``out``, RUN/backtest or backtests/NAME).
    """
    from rnn_pipeline.api import pipeline_config
    from rnn_pipeline.paths import check_writable
    from rnn_pipeline.runs import RunFolder
    from rnn_pipeline.tasks.forecast.config import ForecastConfig

    run = target if target and (Path(target) / RunFolder.CONFIG).is_file() else None
    if run is not None:
        if overrides:
            raise pipeline_error("--set", "applies to a PIPELINE, not a RUN", overrides[0])
        config = RunFolder(run).check_exists().load_config()
    else:
        config = pipeline_config(target, overrides)[1]
    if not isinstance(config, ForecastConfig):
        raise pipeline_error("RUN|PIPELINE", f"must be a forecasting run or pipeline (task "
                             f"'forecast'), but its task is {config.task!r}", str(target))
    out = Path(out) if out else (Path(run) / "backtest" if run else
                                 Path("backtests") / config.name)
    if out.exists():
        raise pipeline_error("--out", "must be a new folder (a backtest writes it whole)",
                             str(out))
    parent = next(p for p in [out.parent, *out.parent.parents] if p.exists())
    check_writable(parent, "--out")
    return config, run, out


def with_drop_last(config, rows):
    """``config`` with its series ending ``rows`` earlier (``series.drop_last``)."""
    return dataclasses.replace(config, series=dataclasses.replace(config.series,
                                                                  drop_last=rows))


def run_backtest(config, fitted, out, count, step, refit, fit, blank, log):
    """Args:
        config: the `ForecastConfig` to fit with (a pipeline's, or a run's own).
        fitted: a trained workflow of ``config``, or None: without ``refit`` one is fitted
            on the rows before the first origins (``series.drop_last``).
        out: the output folder (new); the fits go in ``out/fits/``.
        count, step: origins per series and rows between them.
        refit: fit a model before each origin (``fitted`` is then not used).
        fit: (config, run folder) -> a trained workflow (`api.fit_pipeline`).
        blank: config -> an untrained workflow (to read the whole series).
        log: callable for progress lines.

    Returns:
        (the summary rows, one per forecaster; None or why statsforecast's models were
        skipped).
    """
    out = Path(out)
    partial = out.with_name(f".partial-{out.name}")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "fits").mkdir(parents=True)
    try:
        refitted = _refits(config, count, step, fit, partial / "fits", log) if refit else None
        if refit:
            fitted = blank(config)
        elif fitted is None:
            log(f"Backtest: one fit, on the rows before the first of {count} origins")
            fitted = fit(with_drop_last(config, (count - 1) * step), partial / "fits" / "once")
        found = score_origins(fitted, count, step, refitted, log)
        _write(partial, found, config.name)
        if not any((partial / "fits").iterdir()):
            (partial / "fits").rmdir()  # the run's own model: nothing was fitted
        partial.rename(out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return found["summary"], found["statistical_skipped"]


def _refits(config, count, step, fit, folder, log):
    """rank -> a workflow fitted on the rows before that rank's origins."""
    def refitted(rank):
        log(f"Backtest: fit {rank + 1}/{count}, on the rows before origin {rank + 1} of "
            f"each series")
        return fit(with_drop_last(config, (count - 1 - rank) * step),
                   folder / f"origin_{rank + 1}")
    return refitted


def _mean_by(windows, key):
    """{(model, key value): (mean sMAPE, mean MASE, windows)} in first-seen order."""
    groups = {}
    for row in windows:
        groups.setdefault((row["model"], row[key]), []).append(row)
    return [{"model": model, key: value, "windows": len(rows),
             "smape": float(np.nanmean([r["smape"] for r in rows])),
             "mase": float(np.nanmean([r["mase"] for r in rows]))}
            for (model, value), rows in groups.items()]


def _write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _write(folder, found, name):
    _write_csv(folder / WINDOWS_CSV, found["windows"])
    by_series = _mean_by(found["windows"], "series")
    by_origin = _mean_by(found["windows"], "rank")
    _write_csv(folder / SERIES_CSV, by_series)
    _write_csv(folder / ORIGINS_CSV, by_origin)
    summary = {"summary": found["summary"],
               "statistical_skipped": found["statistical_skipped"]}
    (folder / SUMMARY_JSON).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _plot(by_origin, folder / ERROR_PNG, f"{name}: MASE by forecast origin")


def _plot(by_origin, path, title):
    """Mean MASE over the series at each origin, one line per forecaster, on a log scale
    (lines that lie close stay apart), the legend outside the axes."""
    import matplotlib.pyplot as plt

    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(9, 4.5))
    models = list(dict.fromkeys(row["model"] for row in by_origin))
    colors = plt.get_cmap("tab20").colors  # one color each for up to 20 forecasters
    for index, model in enumerate(models):
        rows = [row for row in by_origin if row["model"] == model]
        axes.plot([row["rank"] for row in rows], [row["mase"] for row in rows], marker="o",
                  markersize=3, label=model, color=colors[index % len(colors)],
                  linewidth=2.4 if index == 0 else 1.2)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_yscale("log")
    axes.set_xlabel("forecast origin (1 = earliest)")
    axes.set_ylabel("MASE (mean over series)")
    axes.set_title(title)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
