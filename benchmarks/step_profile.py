"""Benchmark: where one training step of the project goes, by taking parts away.

On the ``vs_pytorch.py`` model (2 x 200 LSTM, V words, bptt 35, batch 20, SGD with
global-norm clipping, dropout 0.2), each variant trains the same batches in alternating
rounds of one run; the differences between them are the cost of the part removed:

* ``fit loop``: the loop of ``rnn-pipeline fit`` with its per-step callbacks (the carried
  state's reset, the per-step gradient log that reads the monitor on the host);
* ``fit loop, train.jit_compile``: the same with the step compiled whole by XLA;
* ``compiled step``: the same compiled train step called back to back, no callbacks;
* ``keras train step``: Keras' own ``Model.train_step`` (no gradient monitor, no skip
  of non-finite steps), compiled the same way;
* ``forward + backward``: loss and gradients only, no optimizer;
* ``forward``: the loss only;
* ``..., XLA``: the project's train step, Keras' train step, and the loss and gradients
  alone, each compiled whole with ``jit_compile``.

Usage:
    python benchmarks/step_profile.py [--vocab 10000] [--steps 30] [--rounds 3] [--bptt 35]
        [--dropout 0.2]
"""

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vs_pytorch  # noqa: E402
from vs_pytorch import (BATCH, BPTT, project_model, project_runner, token_batches,  # noqa: E402
                        torch_runner)


def compiled(model, batches, function):
    """A round: ``function(x, y)`` compiled once, called on every batch, one host sync."""
    import tensorflow as tf

    pairs = [(tf.constant(x), tf.constant(y)) for x, y in batches]
    step = tf.function(function)

    def one_round():
        out = None
        for x, y in pairs:
            out = step(x, y)
        return float(tf.nest.flatten(out)[0])

    return one_round


def variants(vocab, batches, folder):
    import keras
    import tensorflow as tf

    weights = tf.ones([BATCH, BPTT])

    def fresh(plain=False):
        model = project_model(vocab)
        if plain:
            model.train_step = types.MethodType(keras.Model.train_step, model)
        return model

    def loss_of(model, x, y, training):
        return model.compute_loss(x=x, y=y, y_pred=model(x, training=training),
                                  sample_weight=weights, training=training)

    def gradients(model):
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_of(model, x, y, True)
            return [loss, *tape.gradient(loss, model.trainable_weights)]
        return step

    task, plain, xla, plain_xla = fresh(), fresh(plain=True), fresh(), fresh(plain=True)
    grads_model, forward_model, grads_xla = fresh(), fresh(), fresh()

    def jit(function):
        return tf.function(function, jit_compile=True)
    return {
        "fit loop": project_runner(fresh(), batches, Path(folder) / "gradients.csv"),
        "fit loop, train.jit_compile": project_runner(fresh(), batches,
                                                      Path(folder) / "xla.csv", True),
        "compiled step": compiled(task, batches, lambda x, y: task.train_step((x, y, weights))),
        "keras train step": compiled(plain, batches,
                                     lambda x, y: plain.train_step((x, y, weights))),
        "forward + backward": compiled(grads_model, batches, gradients(grads_model)),
        "forward": compiled(forward_model, batches,
                            lambda x, y: loss_of(forward_model, x, y, False)),
        "compiled step, XLA": compiled(xla, batches,
                                       jit(lambda x, y: xla.train_step((x, y, weights)))),
        "keras train step, XLA": compiled(plain_xla, batches, jit(
            lambda x, y: plain_xla.train_step((x, y, weights)))),
        "forward + backward, XLA": compiled(grads_xla, batches, jit(gradients(grads_xla))),
        "pytorch reference": torch_runner(fresh(), batches, vocab, threads=os.cpu_count()),
    }


def main():
    global BPTT  # the window of every variant
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bptt", type=int, default=BPTT, help="window (20: ptb_small)")
    parser.add_argument("--dropout", type=float, default=vs_pytorch.DROPOUT)
    args = parser.parse_args()
    BPTT = vs_pytorch.BPTT = args.bptt
    vs_pytorch.DROPOUT = args.dropout
    batches, source = token_batches(args.vocab, args.steps)
    with tempfile.TemporaryDirectory() as folder:
        runs = variants(args.vocab, batches, folder)
        for run in runs.values():  # warm-up: tracing
            run()
        times = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                start = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - start) / args.steps * 1000)
    rows = {name: {"ms_per_step": round(float(np.median(v)), 1),
                   "tokens_per_second": round(BATCH * BPTT / np.median(v) * 1000),
                   "rounds_ms": [round(x, 1) for x in v]} for name, v in times.items()}
    print(json.dumps({"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "vocab": args.vocab, "bptt": BPTT, "dropout": args.dropout,
                      "batches": source, "steps": args.steps,
                      "variants": rows}, indent=2))


if __name__ == "__main__":
    main()
