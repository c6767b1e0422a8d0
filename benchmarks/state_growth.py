"""Benchmark probe: how large the carried hidden state of a finished LM run grows when a
split is read from a zero state, window by window, as evaluation reads it.

The same measurement as the "forward state" line of ``rnn-pipeline diagnose RUN`` (which
reads the validation split), for any split and every window. It explains an evaluation
that gives NaN after a training run that did not (see BENCHMARKS.md, issue 8).

Usage:
    python benchmarks/state_growth.py RUN [--split valid] [--max-windows 500]
"""

import argparse
import dataclasses
import json

from rnn_pipeline.diagnostics.forward_state import forward_state_peaks
from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--max-windows", type=int, default=None)
    args = parser.parse_args()
    workflow = LanguageModelWorkflow.from_run(args.run)
    stream = workflow.run_streams((args.split,))[args.split]
    state = forward_state_peaks(workflow.model, workflow.windows(stream), args.max_windows)
    print(state.line(args.split))
    print(json.dumps({"run": args.run, "split": args.split, **dataclasses.asdict(state)},
                     indent=2))


if __name__ == "__main__":
    main()
