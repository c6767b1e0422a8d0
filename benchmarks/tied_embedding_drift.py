"""Benchmark (diagnostic): why Adam with a tied embedding trails SGD on a large vocabulary.

Trains the ``ptb_best`` model for one pass over the first N training tokens of PTB with
each optimizer setting given, then reports the running training perplexity, the exact
perplexity of the first and last 20k training tokens and of 20k validation tokens, and the
mean norm of the embedding rows grouped by how often their word occurred in the slice.
Rows start with norm ~0.41 (uniform in [-0.05, 0.05], 200 dimensions).

Usage:
    python benchmarks/tied_embedding_drift.py --tokens 300000 \\
        --run "train.optimizer=adam train.learning_rate=0.004 train.global_clipnorm=1.0" \\
        --run "train.optimizer=adam train.learning_rate=0.004 train.global_clipnorm=1.0 model.tie_weights=false" \\
        --run "train.optimizer=sgd train.learning_rate=20 train.global_clipnorm=0.25"
"""

import argparse
import json
import math
import time

import numpy as np

from rnn_pipeline.config.bundled import resolve_pipeline
from rnn_pipeline.config.loader import apply_overrides, load
from rnn_pipeline.training import evaluate, fit
from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow

BUCKETS = [(0, 1), (1, 3), (3, 10), (10, 100), (100, 1000), (1000, None)]


def one_run(tokens, overrides, batch_size):
    config = apply_overrides(load(resolve_pipeline("ptb_best")),
                             ["train.epochs=1", f"train.batch_size={batch_size}", *overrides])
    workflow = LanguageModelWorkflow(config, log=lambda line: None).prepare()
    train, valid = workflow.streams["train"], workflow.streams["valid"]
    start = time.perf_counter()
    rows = fit(workflow.model, workflow.windows(train[:tokens]),
               workflow.windows(valid[:20000]), config.train, verbose=0, metric="perplexity",
               loss_of_metric=math.log)
    perplexity = {name: evaluate(workflow.model, workflow.windows(stream))["perplexity"]
                  for name, stream in (("train_first_20k", train[:20000]),
                                       ("train_last_20k", train[tokens - 20000:tokens]),
                                       ("valid_20k", valid[:20000]))}
    matrix = workflow.model.backbone.token_embedding.embeddings.numpy()
    counts = np.bincount(train[:tokens], minlength=len(matrix))
    norms = np.linalg.norm(matrix, axis=1)
    by_count = {}
    for low, high in BUCKETS:
        picked = (counts >= low) & (counts < (high or np.inf))
        by_count[f"{low}-{high - 1}" if high else f"{low}+"] = {
            "rows": int(picked.sum()), "mean_norm": round(float(norms[picked].mean()), 3)}
    return {"overrides": overrides, "running_train_perplexity": rows[-1]["train_perplexity"],
            **{k: round(v, 1) for k, v in perplexity.items()},
            "embedding_norm_by_train_count": by_count,
            "seconds": round(time.perf_counter() - start, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=300000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--run", action="append", required=True,
                        help="space-separated KEY=VALUE overrides of one run (repeatable)")
    args = parser.parse_args()
    for run in args.run:
        print(json.dumps(one_run(args.tokens, run.split(), args.batch_size)), flush=True)


if __name__ == "__main__":
    main()
