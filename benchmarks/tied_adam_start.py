"""Benchmark (diagnostic): Adam and a tied embedding, the loss a train step reports
against the loss of the weights it leaves.

For each run (space-separated ``key=value`` overrides of PIPELINE; the extra token
``bias=zeros`` starts the tied projection's bias at zero instead of the log-unigram),
trains ``--steps`` steps of the pipeline's first epoch at a constant learning rate, then
reads the same training windows again with the final weights, in inference mode, with
the state carried from zero. A healthy model scores about what its train steps reported;
the Adam + tied-embedding failure shows as a final model far worse than the steps said,
and worse than the unigram model.

Usage:
    python benchmarks/tied_adam_start.py aozora_ja --steps 120 --run "bias=zeros" \\
        --run "bias=zeros train.epsilon=1e-5" --run "bias=zeros model.tie_weights=false" \\
        --run ""
"""

import argparse
import json
import time

import keras
import numpy as np
import tensorflow as tf

from rnn_pipeline.config.bundled import resolve_pipeline
from rnn_pipeline.config.loader import apply_overrides, load
from rnn_pipeline.training.state import ResetStates, reset_states
from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow


class StepLosses(keras.callbacks.Callback):
    """The loss every train step reported (before its update)."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(self.model.gradient_monitor.loss.numpy()))


def window_losses(model, windows):
    """Mean NLL per token of each window, state carried from a zero state."""
    reset_states(model)
    losses = []
    for x, y, w in windows:
        logits = model(x, training=False)
        nll = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        losses.append(float(tf.reduce_sum(nll * w) / tf.reduce_sum(w)))
    return np.array(losses)


def one_run(pipeline, steps, overrides):
    zero_bias = "bias=zeros" in overrides
    overrides = [item for item in overrides if item != "bias=zeros"]
    config = apply_overrides(load(resolve_pipeline(pipeline)),
                             ["train.epochs=1", "train.schedule=constant", *overrides])
    workflow = LanguageModelWorkflow(config, log=lambda line: None).prepare()
    model, windows = workflow.model, workflow.datasets["train"].take(steps)
    if zero_bias and model.output_bias is not None:
        model.output_bias.bias.assign(np.zeros(model.output_bias.bias.shape, np.float32))
    recorder = StepLosses()
    start = time.perf_counter()
    model.fit(windows, epochs=1, shuffle=False, callbacks=[ResetStates(), recorder], verbose=0)
    final = window_losses(model, windows)
    norms = np.linalg.norm(model.backbone.token_embedding.embeddings.numpy(), axis=1)
    return {"overrides": overrides, "bias": "zeros" if zero_bias else "log-unigram",
            "steps": steps,
            "train_step_loss_last_20": round(float(np.mean(recorder.losses[-20:])), 3),
            "final_weights_loss_same_windows": round(float(final.mean()), 3),
            "final_weights_loss_last_20_windows": round(float(final[-20:].mean()), 3),
            "unigram_loss": round(float(np.log(workflow.unigram["train"])), 3),
            "embedding_row_norm_mean": round(float(norms.mean()), 3),
            "seconds": round(time.perf_counter() - start, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline")
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--run", action="append", required=True,
                        help="space-separated KEY=VALUE overrides of one run (repeatable)")
    args = parser.parse_args()
    for run in args.run:
        print(json.dumps(one_run(args.pipeline, args.steps, run.split())), flush=True)


if __name__ == "__main__":
    main()
