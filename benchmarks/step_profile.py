"""Benchmark: where one training step of the project goes, by taking parts away.

On the ``vs_pytorch.py`` model (2 x 200 LSTM, V words, bptt 35, batch 20, SGD with
global-norm clipping, dropout 0.2), each variant trains the same batches in alternating
rounds of one run, at one ``train.precision`` and ``train.recurrence`` (and
``train.jit_compile`` with ``--xla``); the differences between rows are the cost of the
part removed:

* ``fit loop``: the loop of ``rnn-pipeline fit`` with its per-step callbacks (the carried
  state's reset, the per-step gradient log that reads the monitor on the host);
* ``compiled step``: the same compiled train step called back to back, no callbacks;
* ``compiled step, no gradient monitor``: its statistics (norms, finiteness) not taken;
* ``forward + backward``: loss and gradients only, no clipping or update;
* ``forward + backward, no dropout``: the same model without its three dropout layers;
* ``forward``: the loss only (training mode);
* ``forward + backward, loop``: the gradients with Keras' loop for the recurrence;
* ``pytorch ...``: the PyTorch reference's whole step, float32 and bfloat16 autocast.

Usage:
    python benchmarks/step_profile.py [--vocab 10000] [--steps 30] [--rounds 3] [--bptt 35]
        [--dropout 0.2] [--precision float32] [--recurrence unrolled] [--xla]
"""

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine  # noqa: E402
import vs_pytorch  # noqa: E402
from vs_pytorch import (BATCH, BPTT, project_model, project_runner, token_batches,  # noqa: E402
                        torch_runner)


def compiled(model, batches, step):
    """A round: the compiled ``step(x, y)`` called on every batch, one host sync."""
    import tensorflow as tf

    pairs = [(tf.constant(x), tf.constant(y)) for x, y in batches]

    def one_round():
        out = None
        for x, y in pairs:
            out = step(x, y)
        return float(tf.nest.flatten(out)[0])

    return one_round


def variants(vocab, batches, folder, precision, recurrence, xla):
    import tensorflow as tf

    from rnn_pipeline.models.recurrence import set_training_recurrence
    from rnn_pipeline.training.precision import training_precision

    weights = tf.ones([BATCH, BPTT])

    def fresh(path=recurrence, dropout=None):
        if dropout is not None:
            vs_pytorch.DROPOUT, saved = dropout, vs_pytorch.DROPOUT
        model = project_model(vocab)
        if dropout is not None:
            vs_pytorch.DROPOUT = saved
        set_training_recurrence(model, path)
        model.gradient_monitor.dense_rows = xla
        return model

    def in_precision(model, run):
        def one_round():
            with training_precision(model, precision):
                return run()
        return one_round

    def step(model, function):
        return in_precision(model, compiled(model, batches, tf.function(
            function, jit_compile=xla)))

    def gradients(model):
        def run(x, y):
            with tf.GradientTape() as tape:
                loss, _ = model.forward_loss(x, y, weights, training=True)
            return [loss, *tape.gradient(loss, model.trainable_weights)]
        return step(model, run)

    unmonitored = fresh()
    unmonitored.gradient_monitor.observe = lambda loss, grads, variables: tf.constant(True)
    task, forward_model = fresh(), fresh()
    return {
        "fit loop": project_runner(fresh(), batches, Path(folder) / "log.csv", xla,
                                   recurrence, precision),
        "compiled step": step(task, lambda x, y: task.train_step((x, y, weights))),
        "compiled step, no gradient monitor": step(
            unmonitored, lambda x, y: unmonitored.train_step((x, y, weights))),
        "forward + backward": gradients(fresh()),
        "forward + backward, no dropout": gradients(fresh(dropout=0.0)),
        "forward": step(forward_model, lambda x, y: forward_model.forward_loss(
            x, y, weights, training=True)[0]),
        "forward + backward, loop": gradients(fresh("loop")),
        "pytorch float32": torch_runner(fresh(), batches, vocab, threads=os.cpu_count()),
        "pytorch bf16 autocast": torch_runner(fresh(), batches, vocab,
                                              threads=os.cpu_count(), autocast=True),
    }


def main():
    global BPTT  # the window of every variant
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bptt", type=int, default=BPTT, help="window (20: ptb_small)")
    parser.add_argument("--dropout", type=float, default=vs_pytorch.DROPOUT)
    parser.add_argument("--precision", default="float32",
                        choices=("float32", "mixed_bfloat16"))
    parser.add_argument("--recurrence", default="unrolled",
                        choices=("loop", "unrolled", "fused"))
    parser.add_argument("--xla", action="store_true", help="train.jit_compile")
    args = parser.parse_args()
    BPTT = vs_pytorch.BPTT = args.bptt
    vs_pytorch.DROPOUT = args.dropout
    batches, source = token_batches(args.vocab, args.steps)
    with tempfile.TemporaryDirectory() as folder:
        runs = variants(args.vocab, batches, folder, args.precision, args.recurrence,
                        args.xla)
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
                      "precision": args.precision, "recurrence": args.recurrence,
                      "xla": args.xla, "cpu": machine.cpu_name(),
                      "bfloat16_flags": machine.bfloat16_flags(),
                      "batches": source, "steps": args.steps,
                      "variants": rows}, indent=2))


if __name__ == "__main__":
    main()
