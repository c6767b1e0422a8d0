"""Diagnostic: does a translation model still use its source while it trains?

Trains a pipeline's model a few steps at a time and prints, after each chunk, the
validation perplexity with the true sources and with shuffled sources (the same targets),
and the mean |h0| of the decoder's initial state with its spread over sources. A model
that has decayed into a target language model scores the same on both, and its |h0| is
near 1 with no spread (a saturated tanh bridge: see the issue 6 note).

Usage:
    python benchmarks/seq2seq_source_use.py tatoeba_en_ja --steps 100 --set model.merge=sum
"""

import argparse

import keras
import numpy as np

from rnn_pipeline import config as config_lib
from rnn_pipeline.config.bundled import resolve_pipeline
from rnn_pipeline.tasks.translation.data import pair_batches
from rnn_pipeline.workflows import get_workflow


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--pairs", type=int, default=8000, help="pairs.max_pairs")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    config = config_lib.apply_overrides(config_lib.load(resolve_pipeline(args.pipeline)),
                                        [f"pairs.max_pairs={args.pairs}",
                                         "train.schedule=constant", *args.overrides])
    workflow = get_workflow("translation")(config, log=lambda line: None).validate().prepare()
    model = workflow.model
    valid = workflow.splits["valid"][:512]
    order = np.random.default_rng(0).permutation(len(valid))
    shuffled = [(valid[i][0], valid[j][1]) for j, i in enumerate(order)]
    batches = {name: pair_batches(p, workflow.source_pre, workflow.target_pre, 64)
               for name, p in (("true", valid), ("shuffled", shuffled))}
    train = workflow.datasets["train"].repeat()
    sources = next(iter(batches["true"]))[0]["source_ids"]
    for done in range(args.every, args.steps + 1, args.every):
        model.fit(train, steps_per_epoch=args.every, epochs=1, verbose=0)
        ppl = {name: model.evaluate(b, verbose=0, return_dict=True)["perplexity"]
               for name, b in batches.items()}
        h0 = keras.ops.convert_to_numpy(model.encode(sources)[2][0])  # (batch, units)
        print(f"step {done}: valid perplexity true source {ppl['true']:.2f}, shuffled "
              f"{ppl['shuffled']:.2f}; |h0| {np.abs(h0).mean():.3f}, spread over sources "
              f"{h0.std(axis=0).mean():.4f}", flush=True)


if __name__ == "__main__":
    main()
