"""Benchmark: training throughput (tokens/s) on the PTB and WikiText-2 shapes, against
the machine's matmul roofline measured in the same run.

Shapes: 2 x 200 LSTM, embedding 200, bptt 35, batch 20, V = 10,000 (PTB) and
V = 33,278 (WikiText-2). FLOPs per trained token are counted as
6 * (4 * (E + H) * H * layers + H * V): multiply-adds of the four LSTM gates and of the
output projection, x2 for multiply+add, x3 for forward + backward.

Usage:
    python benchmarks/throughput.py [--steps 30]
"""

import argparse
import datetime
import json
import os
import platform
import time

import numpy as np

import rnn_pipeline  # noqa: F401  (TensorFlow backend)
import keras
import tensorflow as tf

from rnn_pipeline.config import ModelConfig
from rnn_pipeline.models import build_causal_lm

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


def train_tokens_per_second(vocab, steps, jit_compile=False):
    model = build_causal_lm(ModelConfig(embedding_dim=E, units=H, num_layers=LAYERS,
                                        init_scale=0.1), vocab, BATCH)
    model.compile(optimizer=keras.optimizers.SGD(1.0, global_clipnorm=5.0),
                  jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, vocab, (BATCH, BPTT)).astype(np.int32) for _ in range(4)]
    weights = np.ones((BATCH, BPTT), np.float32)
    for x in batches[:2]:  # trace and warm up
        model.train_on_batch(x, x, sample_weight=weights)
    start = time.perf_counter()
    for step in range(steps):
        x = batches[step % len(batches)]
        model.train_on_batch(x, x, sample_weight=weights)
    return steps * BATCH * BPTT / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    rows = []
    for name, vocab in (("ptb", 10_000), ("wikitext2", 33_278)):
        flops_per_token = 6 * (4 * (E + H) * H * LAYERS + H * vocab)
        roofline = matmul_gflops(vocab)
        for jit in (False, True):
            tokens = train_tokens_per_second(vocab, args.steps, jit_compile=jit)
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
