"""Benchmark: the cost of the gradient monitor in the train step (PTB shape).

Trains the same 2 x 200 LSTM language model (V = 10,000, bptt 35, batch 20, SGD with
``global_clipnorm``) with the task's train step (gradient norms, clipping flag, finite
check, skip of non-finite steps) and with Keras' plain ``Model.train_step``, in
alternating rounds so that both see the same machine load.

Usage:
    python benchmarks/gradient_monitor_overhead.py [--steps 30] [--rounds 3]
"""

import argparse
import datetime
import json
import os
import platform
import time
import types

import keras
import numpy as np

from rnn_pipeline.config import ModelConfig
from rnn_pipeline.models import build_causal_lm

VOCAB, BPTT, BATCH = 10_000, 35, 20


def make_model(plain):
    model = build_causal_lm(ModelConfig(embedding_dim=200, units=200, num_layers=2,
                                        init_scale=0.1), VOCAB, BATCH)
    model.compile(optimizer=keras.optimizers.SGD(1.0, global_clipnorm=5.0))
    if plain:
        model.train_step = types.MethodType(keras.Model.train_step, model)
    return model


def tokens_per_second(model, batches, steps):
    weights = np.ones((BATCH, BPTT), np.float32)
    start = time.perf_counter()
    for step in range(steps):
        x = batches[step % len(batches)]
        model.train_on_batch(x, x, sample_weight=weights)
    return steps * BATCH * BPTT / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, VOCAB, (BATCH, BPTT)).astype(np.int32) for _ in range(4)]
    models = {"task train step (monitor)": make_model(False),
              "keras Model.train_step": make_model(True)}
    for model in models.values():  # trace and warm up
        tokens_per_second(model, batches, 2)
    speeds = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            speeds[name].append(tokens_per_second(model, batches, args.steps))
    rows = [{"train_step": name, "tokens_per_second": round(float(np.median(v))),
             "rounds": [round(s) for s in v]} for name, v in speeds.items()]
    overhead = rows[1]["tokens_per_second"] / rows[0]["tokens_per_second"] - 1
    print(json.dumps({"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "rows": rows, "monitor_overhead": round(overhead, 4)}, indent=2))


if __name__ == "__main__":
    main()
