"""Benchmark: training throughput (tokens/s) on the PTB and WikiText-2 shapes, against
the machine's matmul roofline measured in the same run.

Shapes: 2 x 200 LSTM, embedding 200, bptt 35, batch 20, V = 10,000 (PTB) and
V = 33,278 (WikiText-2). FLOPs per trained token are counted as
6 * (4 * (E + H) * H * layers + H * V): multiply-adds of the four LSTM gates and of the
output projection, x2 for multiply+add, x3 for forward + backward.

With ``--monitor-overhead`` it instead compares, on the PTB shape, the task's train step
(gradient norms, clipping flag, finite check) with Keras' plain ``Model.train_step``, in
alternating rounds so that both see the same machine load.

With ``--roofline`` it measures the machine's float32 matmul peak instead: a large square
matmul, and every GEMM shape of one training step of the model (forward and both backward
products of the output projection; the LSTM's input and recurrent products, per time
step and over a whole window), each as GFLOP/s. Run it with nothing else on the cores.

Usage:
    python benchmarks/throughput.py [--steps 30]
    python benchmarks/throughput.py --monitor-overhead [--steps 30] [--rounds 3]
    python benchmarks/throughput.py --roofline
"""

import argparse
import datetime
import json
import os
import platform
import time
import types

import numpy as np

import rnn_pipeline  # noqa: F401  (TensorFlow backend)
import keras
import tensorflow as tf

from rnn_pipeline.config import ModelConfig
from rnn_pipeline.tasks.causal_lm.model import build_causal_lm

E = H = 200
LAYERS, BPTT, BATCH = 2, 35, 20


def matmul_gflops(vocab, repeats=20):
    """GFLOP/s of a (700 x 200) x (200 x V) float32 matmul (the output projection)."""
    a = tf.random.normal([BPTT * BATCH, H])
    b = tf.random.normal([H, vocab])
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    product()
    start = time.perf_counter()
    for _ in range(repeats):
        product().numpy()
    seconds = (time.perf_counter() - start) / repeats
    return 2 * BPTT * BATCH * H * vocab / seconds / 1e9


def gemm_gflops(m, k, n, seconds=2.0):
    """GFLOP/s of a float32 (m x k) @ (k x n) product, repeated for about ``seconds``."""
    a, b = tf.random.normal([m, k]), tf.random.normal([k, n])
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    product().numpy()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        product().numpy()
        count += 1
    return 2 * m * k * n * count / (time.perf_counter() - start) / 1e9


def gemm_peaks():
    """The square-matmul peak and the model's GEMM shapes: {name: {shape, gflops}}."""
    tokens = BPTT * BATCH
    shapes = {"square 2048": (2048, 2048, 2048), "square 4096": (4096, 4096, 4096)}
    for name, vocab in (("ptb", 10_000), ("wikitext2", 33_278)):
        shapes.update({
            f"{name} output forward (tokens x H) @ (H x V)": (tokens, H, vocab),
            f"{name} output backward d_hidden (tokens x V) @ (V x H)": (tokens, vocab, H),
            f"{name} output backward d_weight (H x tokens) @ (tokens x V)": (H, tokens, vocab),
        })
    shapes.update({
        "lstm gates, one step (batch x H) @ (H x 4H)": (BATCH, H, 4 * H),
        "lstm input gates, whole window (tokens x E) @ (E x 4H)": (tokens, E, 4 * H),
    })
    return {name: {"m_k_n": list(shape), "gflops": round(gemm_gflops(*shape), 1)}
            for name, shape in shapes.items()}


def ptb_shaped_model(vocab, jit_compile=False, plain_train_step=False):
    model = build_causal_lm(ModelConfig(embedding_dim=E, units=H, num_layers=LAYERS,
                                        init_scale=0.1), vocab, BATCH)
    model.compile(optimizer=keras.optimizers.SGD(1.0, global_clipnorm=5.0),
                  jit_compile=jit_compile)
    if plain_train_step:
        model.train_step = types.MethodType(keras.Model.train_step, model)
    return model


def tokens_per_second(model, vocab, steps, warmup=2):
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, vocab, (BATCH, BPTT)).astype(np.int32) for _ in range(4)]
    weights = np.ones((BATCH, BPTT), np.float32)
    for x in batches[:warmup]:  # trace and warm up
        model.train_on_batch(x, x, sample_weight=weights)
    start = time.perf_counter()
    for step in range(steps):
        x = batches[step % len(batches)]
        model.train_on_batch(x, x, sample_weight=weights)
    return steps * BATCH * BPTT / (time.perf_counter() - start)


def monitor_overhead(steps, rounds, vocab=10_000):
    """Tokens/s of the task's train step against Keras' plain one, alternating rounds."""
    models = {"task train step (gradient monitor)": ptb_shaped_model(vocab),
              "keras Model.train_step": ptb_shaped_model(vocab, plain_train_step=True)}
    speeds = {name: [] for name in models}
    for round_ in range(rounds):
        for name, model in models.items():
            speeds[name].append(tokens_per_second(model, vocab, steps, 2 if round_ == 0 else 0))
    rows = [{"train_step": name, "median_tokens_per_second": round(float(np.median(v))),
             "rounds": [round(x) for x in v]} for name, v in speeds.items()]
    slowdown = 1 - rows[0]["median_tokens_per_second"] / rows[1]["median_tokens_per_second"]
    return {"rows": rows, "monitor_slowdown": round(slowdown, 4)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--monitor-overhead", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--roofline", action="store_true")
    args = parser.parse_args()
    if args.roofline:
        print(json.dumps({"date": datetime.date.today().isoformat(),
                          "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                          "gemms": gemm_peaks()}, indent=2))
        return
    if args.monitor_overhead:
        print(json.dumps({"date": datetime.date.today().isoformat(),
                          "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                          **monitor_overhead(args.steps, args.rounds)}, indent=2))
        return
    rows = []
    for name, vocab in (("ptb", 10_000), ("wikitext2", 33_278)):
        flops_per_token = 6 * (4 * (E + H) * H * LAYERS + H * vocab)
        roofline = matmul_gflops(vocab)
        for jit in (False, True):
            tokens = tokens_per_second(ptb_shaped_model(vocab, jit_compile=jit), vocab,
                                       args.steps)
            achieved = tokens * flops_per_token / 1e9
            rows.append({"shape": name, "vocab": vocab, "jit_compile": jit,
                         "tokens_per_second": round(tokens), "gflops": round(achieved, 1),
                         "matmul_roofline_gflops": round(roofline, 1),
                         "share_of_roofline": round(achieved / roofline, 3)})
            print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "results": rows}, indent=2))


if __name__ == "__main__":
    main()
