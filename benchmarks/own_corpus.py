"""Benchmark: a user's own text with only ``[data]`` set, against the unigram model.

Three corpora of different sizes and styles, each a pipeline file whose only section is
``[data]`` (``corpus = "files"``), so every other setting is the schema's default:

* ``shakespeare``: Tiny Shakespeare as plain text (verse, speaker lines; ~240k tokens),
  its lines interleaved into train/valid/test (``data.split_every``);
* ``wikitext2``: WikiText-2's train/valid/test files as they are (Wikipedia articles,
  already tokenized, ~2.1M training tokens);
* ``pydoc``: the text of Python's documentation topics (``pydoc_data.topics``) written
  as plain files, one per topic (technical prose and code; ~70k tokens).

Each is fitted with ``rnn-pipeline fit FILE --epochs 2`` in a fresh process; the report
gives the valid perplexity against the add-one unigram perplexity of the same split
(computed by the same run), their ratio, and the wall time of each fit (start-up, data
preparation, training and the final evaluation of the three splits). Target: valid
perplexity at most half the unigram's, each fit at most 10 minutes on 2 cores.

Usage (from the repository root; the data from the mirror):
    RNN_PIPELINE_DATA_MIRROR=/work/shared/data python benchmarks/own_corpus.py
    python benchmarks/own_corpus.py --only pydoc --set train.learning_rate=0.005
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from machine import cpu_name  # benchmarks/ is the script's folder, first on sys.path
from processes import timed_run

EPOCHS = 2
TARGET_RATIO = 0.5
BUDGET_SECONDS = 600


def mirror():
    """The data mirror folder (``RNN_PIPELINE_DATA_MIRROR``, default ../shared/data)."""
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("RNN_PIPELINE_DATA_MIRROR", default))


def write_pydoc(folder):
    """``pydoc_data.topics`` as plain text files, one per topic; returns their glob."""
    from pydoc_data.topics import topics

    folder.mkdir(parents=True, exist_ok=True)
    for key in sorted(topics):
        (folder / f"{key}.txt").write_text(topics[key], encoding="utf-8")
    return [str(folder / "*.txt")]


def corpora(work):
    """{name: the ``[data]`` keys} of the three corpora (files written under ``work``)."""
    wikitext = mirror() / "wikitext-2"
    return {
        "shakespeare": {"train": [str(mirror() / "tinyshakespeare" / "input.txt")]},
        "wikitext2": {split: [str(wikitext / f"{split}.txt")]
                      for split in ("train", "valid", "test")},
        "pydoc": {"train": write_pydoc(work / "pydoc")},
    }


def pipeline_text(data):
    """A pipeline file with only its ``[data]`` section."""
    lines = ["[data]", 'corpus = "files"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in data.items()]
    return "\n".join(lines) + "\n"


def fit(name, data, work, epochs, overrides):
    """Fits one corpus in a fresh process; returns its report row."""
    pipeline = work / f"{name}.toml"
    pipeline.write_text(pipeline_text(data), encoding="utf-8")
    run = work / f"{name}-run"
    command = ["rnn-pipeline", "fit", str(pipeline), "--epochs", str(epochs),
               "--run-dir", str(run), *[item for o in overrides for item in ("--set", o)]]
    wall = timed_run(command, what=f"{name}: ")
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    final, rows = metrics["final"], metrics["epochs"]
    vocabulary = len((run / "vocab.txt").read_text(encoding="utf-8").split("\n")) - 1
    return {
        "corpus": name, "train_tokens": final["train_tokens"], "vocabulary": vocabulary,
        "valid_per_epoch": [round(row["valid_perplexity"], 2) for row in rows],
        "valid_perplexity": round(final["valid_perplexity"], 2),
        "unigram_valid_perplexity": round(final["unigram_valid_perplexity"], 2),
        "ratio": round(final["valid_perplexity"] / final["unigram_valid_perplexity"], 3),
        "epoch_seconds": [round(row["seconds"], 1) for row in rows],
        "wall_seconds": round(wall, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=("shakespeare", "wikitext2", "pydoc"),
                        help="fit only this corpus (repeatable); default: all three")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="an override passed to fit (tuning runs)")
    parser.add_argument("--work-dir", default=None, help="keep pipelines and runs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = []
        for name, data in corpora(work).items():
            if args.only and name not in args.only:
                continue
            rows.append(fit(name, data, work, args.epochs, args.overrides))
            print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"cpu": cpu_name(), "cores": os.cpu_count(),
                      "load_average": os.getloadavg(), "overrides": args.overrides}))
    ok = all(r["ratio"] <= TARGET_RATIO and r["wall_seconds"] <= BUDGET_SECONDS for r in rows)
    print("PASS" if ok else "FAIL", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
