"""Benchmark: a translation pipeline with and without attention.

Runs ``rnn-pipeline fit PIPELINE --set model.attention=A`` in a fresh process per
attention setting, then reports test BLEU and chrF, the training wall time, BLEU by
source length (one PNG with a line per setting) and a few example translations.

Usage:
    python benchmarks/translation_attention.py tatoeba_en_ja --out benchmarks/results
    python benchmarks/translation_attention.py tatoeba_en_es --attention none additive
    python benchmarks/translation_attention.py tatoeba_en_ja --attention additive \
        --reuse none=benchmarks/results/tatoeba_en_ja-none-20261128-042045

``--reuse ATTENTION=RUN`` takes a finished run of an earlier invocation (same pipeline and
overrides) instead of training it again; its test split is translated and scored again
with the current code, and its training time is the one recorded in the run.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import time
from pathlib import Path

from rnn_pipeline.tasks.translation.report import plot_by_length


def examples(run, count=6):
    """The best, worst and middle test translations by chrF of the sentence."""
    import sacrebleu

    with open(run / "translations.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    chrf = sacrebleu.metrics.CHRF()
    scored = sorted(rows, key=lambda r: chrf.sentence_score(r["translation"],
                                                             [r["reference"]]).score)
    picks = scored[:count // 3] + scored[len(scored) // 2:][:count // 3] + scored[-(count // 3):]
    return [{k: r[k] for k in ("source", "reference", "translation")} for r in picks]


def rescore(run):
    """Translates and scores the test split of a finished run again (current code)."""
    from rnn_pipeline.runs import RunFolder
    from rnn_pipeline.workflows import get_workflow

    workflow = get_workflow("translation").from_run(run)
    workflow.splits = workflow.load_pairs()
    workflow.score_split("test", RunFolder(run))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline")
    parser.add_argument("--attention", nargs="*", default=["none", "additive"])
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="extra --set KEY=VALUE for every run")
    parser.add_argument("--out", default="benchmarks/results",
                        help="folder for the runs and the by-length PNG")
    parser.add_argument("--reuse", action="append", default=[], metavar="ATTENTION=RUN",
                        help="score this finished run instead of training the setting")
    args = parser.parse_args()
    reuse = dict(item.split("=", 1) for item in args.reuse)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    results, curves = [], {}
    for attention in [*reuse, *args.attention]:
        start = time.perf_counter()
        if attention in reuse:
            run = Path(reuse[attention])
            rescore(run)
        else:
            run = out / f"{args.pipeline}-{attention}-{stamp}"
            command = ["rnn-pipeline", "fit", args.pipeline, "--run-dir", str(run),
                       "--set", f"model.attention={attention}"]
            for override in args.overrides:
                command += ["--set", override]
            subprocess.run(command, check=True)
        wall = time.perf_counter() - start
        scores = json.loads((run / "bleu.json").read_text(encoding="utf-8"))
        final = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["final"]
        curves[f"attention {attention}"] = scores["by_length"]
        row = {"attention": attention, "bleu": round(scores["bleu"], 2),
               "chrf": round(scores["chrf"], 2), "test_pairs": scores["pairs"],
               "train_seconds": round(final["train_seconds"], 1), "wall_seconds": round(wall, 1),
               "bleu_signature": scores["bleu_signature"],
               "chrf_signature": scores["chrf_signature"], "by_length": scores["by_length"],
               "examples": examples(run), "run": str(run)}
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    png = out / f"{args.pipeline}-bleu-by-length-{stamp}.png"
    plot_by_length(curves, png, title=f"{args.pipeline}: test BLEU by source length")
    print(json.dumps({"pipeline": args.pipeline, "date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "overrides": args.overrides, "plot": str(png), "results": results},
                     indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
