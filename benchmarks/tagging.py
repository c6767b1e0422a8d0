"""Benchmark: the tagger on its three sets, against two same-run baselines.

For each set, every head is fitted with ``rnn-pipeline fit <bundled pipeline> --set
model.head=<head>`` in a fresh process (wall time: start-up, reading, training and the
final scoring of test and valid). The same splits are then read in this process and
tagged by the two baselines:

* the most-frequent-tag baseline (each word's most frequent training tag, the overall
  most frequent for an unseen word), which the run itself computes;
* the classic feature CRF (``sklearn-crfsuite``, the ``bench`` extra: word shape, affixes,
  script, two neighbours each side; L-BFGS, c1 = c2 = 0.1, 100 iterations).

Sets: ``ud`` (UD English-EWT, UPOS, gold tokens), ``wnut17`` (WNUT 2017 NER) and ``ja``
(Japanese Wikipedia NER, per character, seeded 80/10/10 split). Targets (issue 36): UD
UPOS test accuracy >= 95.0% in <= 20 minutes of training on 2 cores; WNUT 2017 and
Japanese NER: crf > softmax > most frequent tag; the BiLSTM(-CRF) above the feature CRF on
all three.

Usage (from the repository root, data from the mirror):
    RNN_PIPELINE_DATA_MIRROR=/work/shared/data python benchmarks/tagging.py
    python benchmarks/tagging.py --only wnut17 --heads crf --set train.epochs=2
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name  # benchmarks/ is the script's folder, first on sys.path
from processes import timed_run

SETS = {  # name -> (bundled pipeline, heads fitted by default)
    "ud": ("ud_english_ewt_upos", ("softmax",)),
    "wnut17": ("wnut17_ner", ("softmax", "crf")),
    "ja": ("ja_ner_wikipedia", ("softmax", "crf")),
}
UD_TARGET, UD_BUDGET_SECONDS = 0.95, 20 * 60


def _figures(scores):
    """Accuracy (and entity F1) of one split's scores, rounded for the table."""
    row = {"accuracy": round(100 * scores["accuracy"], 2),
           "accuracy_unseen": round(100 * (scores["accuracy_unseen"] or 0.0), 2)}
    if "entities" in scores:
        row["f1"] = round(100 * scores["entities"]["f1"], 2)
        row["per_type_f1"] = {t: round(100 * s["f1"], 1)
                              for t, s in scores["entities"]["per_type"].items()}
    return row


def fit(pipeline, head, work, overrides):
    """Fits ``pipeline`` with ``head`` in a fresh process; returns (row, run folder)."""
    run = work / f"{pipeline}-{head}"
    command = ["rnn-pipeline", "fit", pipeline, "--run-dir", str(run), "--set",
               f"model.head={head}", *[x for o in overrides for x in ("--set", o)]]
    wall = timed_run(command)
    metrics = json.loads((run / "tagging_metrics.json").read_text(encoding="utf-8"))
    epochs = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["epochs"]
    row = {"model": f"bilstm-{head}", "test": _figures(metrics["test"]),
           "valid": _figures(metrics["valid"]), "epochs": len(epochs),
           "train_seconds": round(metrics["train_seconds"], 1), "wall_seconds": round(wall, 1)}
    baseline = {"model": "most frequent tag",
                **{s: _figures(metrics["baseline"][s]) for s in ("test", "valid")}}
    return row, baseline, run


def feature_crf(run):
    """The feature CRF on the run's splits (read again from its config); its row."""
    from rnn_pipeline.config import loader
    from rnn_pipeline.tasks.tagging.data import load_splits
    from rnn_pipeline.tasks.tagging.feature_crf import FeatureCRF
    from rnn_pipeline.tasks.tagging.model import is_iob2
    from rnn_pipeline.tasks.tagging.workflow import _split_scores

    config = loader.load(run / "config.toml", run_config=True)
    splits, _ = load_splits(config.data, config.tagging)
    start = time.perf_counter()
    crf = FeatureCRF().fit(splits["train"])
    seconds = time.perf_counter() - start
    words = {t for s in splits["train"] for t in s.tokens}
    iob2 = is_iob2({t for s in splits["train"] for t in s.tags})
    row = {"model": "feature crf (sklearn-crfsuite)", "train_seconds": round(seconds, 1)}
    for name in ("test", "valid"):
        predicted = crf.predict([s.tokens for s in splits[name]])
        row[name] = _figures(_split_scores(splits[name], predicted, words, iob2))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=tuple(SETS),
                        help="this set only (repeatable); default: all three")
    parser.add_argument("--heads", action="append", choices=("softmax", "crf"),
                        help="fit these heads (repeatable); default: the set's")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="an override passed to every fit")
    parser.add_argument("--no-feature-crf", action="store_true",
                        help="skip the sklearn-crfsuite baseline")
    parser.add_argument("--work-dir", default=None, help="keep the runs here")
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    args = parser.parse_args()
    results = {"cpu": cpu_name(), "cores": os.cpu_count(), "overrides": args.overrides,
               "date": time.strftime("%Y-%m-%d"), "sets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name, (pipeline, heads) in SETS.items():
            if args.only and name not in args.only:
                continue
            rows, run = [], None
            for head in args.heads or heads:
                row, baseline, run = fit(pipeline, head, work, args.overrides)
                rows.append(row)
                print(json.dumps({name: row}), flush=True)
            rows.append(baseline)
            if not args.no_feature_crf:
                rows.append(feature_crf(run))
                print(json.dumps({name: rows[-1]}), flush=True)
            results["sets"][name] = rows
    results["load_average"] = os.getloadavg()
    print(json.dumps(results, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
