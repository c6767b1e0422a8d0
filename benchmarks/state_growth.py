"""Benchmark probe: how large the carried hidden state of a finished LM run grows when a
split is read from a zero state, window by window, as evaluation reads it.

Prints, every ``--every`` windows and at the first non-finite loss, the window's mean loss
and the largest |state| of each recurrent layer, then a JSON summary. It explains an
evaluation that gives NaN after a training run that did not (see BENCHMARKS.md, issue 8).

Usage:
    python benchmarks/state_growth.py RUN [--split valid] [--every 50]
"""

import argparse
import json

import keras
import numpy as np

from rnn_pipeline.data.corpora import load_corpus
from rnn_pipeline.data.text_pipeline import split_streams
from rnn_pipeline.training.state import recurrent_layers, reset_states
from rnn_pipeline.workflows.language_model import LanguageModelWorkflow


def largest_state(layer):
    return max(float(np.max(np.abs(keras.ops.convert_to_numpy(s)))) for s in layer.states)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--every", type=int, default=50)
    args = parser.parse_args()
    workflow = LanguageModelWorkflow.from_run(args.run)
    corpus = load_corpus(workflow.config.data)
    stream = split_streams(corpus, workflow.preprocessor, workflow.vocabulary,
                           (args.split,))[args.split]
    layers = recurrent_layers(workflow.model)
    reset_states(workflow.model)
    windows, first_nonfinite, peaks = 0, None, [0.0] * len(layers)
    for x, y, weights in workflow.windows(stream):
        logits = workflow.model(x, training=False)  # (batch, bptt, vocabulary)
        losses = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        loss = float(np.mean(keras.ops.convert_to_numpy(losses)[weights.numpy() > 0]))
        states = [largest_state(layer) for layer in layers]
        peaks = [max(p, s) for p, s in zip(peaks, states)]
        finite = np.isfinite(loss) and all(np.isfinite(states))
        if windows % args.every == 0 or not finite:
            print(json.dumps({"window": windows, "loss": loss, "max_abs_state": states}))
        windows += 1
        if not finite:
            first_nonfinite = windows - 1
            break
    print(json.dumps({"run": args.run, "split": args.split, "windows_read": windows,
                      "first_nonfinite_window": first_nonfinite,
                      "max_abs_state_per_layer": peaks}, indent=2))


if __name__ == "__main__":
    main()
