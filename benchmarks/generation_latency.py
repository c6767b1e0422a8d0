"""Benchmark: generation latency of an export, and next_words latency through the
development server.

1. Per-token latency of the exported ``generate`` (one in-graph tf.while_loop per
   request) at batch 1 and 64, against Python loops that run one step per token, on the
   same weights in the same run:
   * ``compiled``: the baseline: a `tf.function`-compiled step (embedding, cell, softmax
     projection, argmax; the state passed in and out), called once per token;
   * ``stateful``: the eager Keras model on the next token only, the recurrent state kept
     in its layers;
   * ``prefix``: the whole sequence so far (what a first attempt usually does).
2. p50/p99 latency of ``next_words`` through ``rnn-pipeline serve`` (a subprocess) under
   8 concurrent clients sending one-prompt requests over loopback HTTP.

The model has the default pipeline's shape (1 x 200 LSTM, tied, vocabulary 3,827) with
random weights: latency does not depend on what was learned.

Usage:
    python benchmarks/generation_latency.py [--tokens 50] [--requests 400]
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

import rnn_pipeline  # noqa: F401  (TensorFlow backend)
import tensorflow as tf

from processes import start_serve  # benchmarks/ is the script's folder, first on sys.path
from rnn_pipeline.config import ModelConfig
from rnn_pipeline.data.preprocessor import TextPreprocessor
from rnn_pipeline.export import export_saved_model
from rnn_pipeline.tasks.causal_lm.serving import LanguageModelServing
from rnn_pipeline.generation.stepper import RecurrentStepper
from rnn_pipeline.models import RNNBackbone
from rnn_pipeline.tasks.causal_lm.model import CausalLM, build_causal_lm

VOCABULARY = ["<unk>", "<eos>"] + [f"w{i}" for i in range(3825)]
SHAPE = ModelConfig(embedding_dim=200, units=200, num_layers=1, tie_weights=True)


def model_for(batch_size, weights=None):
    preprocessor = TextPreprocessor({"name": "whitespace"}, VOCABULARY)
    model = build_causal_lm(SHAPE, len(VOCABULARY), batch_size, preprocessor=preprocessor)
    if weights is not None:
        model.set_weights(weights)
    return model


def seconds(run, repeats):
    run()  # warm-up (tracing)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def exported_generation(signature, batch, tokens):
    inputs = dict(prompt=tf.constant(["w1 w2 w3"] * batch), max_tokens=tf.fill([batch], tokens),
                  temperature=tf.zeros([batch]), top_k=tf.zeros([batch], tf.int32),
                  seed=tf.zeros([batch], tf.int32))
    return lambda: signature(**inputs)["text"].numpy()


def compiled_step_loop(model, batch, tokens):
    stepper = RecurrentStepper(model)

    @tf.function
    def step(token, state):
        logits, state = stepper.step(token, state)
        return tf.argmax(logits, axis=-1, output_type=tf.int32), state  # (batch,)

    def run():
        token, state = tf.fill([batch], 4), stepper.initial_state(batch)
        for _ in range(tokens):
            token, state = step(token, state)
        token.numpy()
    return run


def stateful_loop(model, batch, tokens):
    def run():
        for layer in model.backbone.rnn_layers:
            layer.reset_states()
        token = np.full([batch, 1], 4, np.int32)
        for _ in range(tokens):
            logits = model(token, training=False)  # (batch, 1, vocab)
            token = np.argmax(logits[:, -1], axis=-1).astype(np.int32)[:, None]
    return run


def prefix_loop(model, batch, tokens):
    def run():
        ids = np.full([batch, 4], 4, np.int32)
        for _ in range(tokens):
            logits = model(ids, training=False)  # (batch, time, vocab)
            ids = np.concatenate([ids, np.argmax(logits[:, -1], -1).astype(np.int32)[:, None]], 1)
    return run


def serve_latencies(base, requests, clients=8):
    process, port = start_serve(base)
    try:
        url = f"http://127.0.0.1:{port}/v1/models/lm:predict"
        body = json.dumps({"signature_name": "next_words", "instances": ["w1 w2 w3"]}).encode()

        def call():
            start = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(url, data=body)) as response:
                response.read()
            return time.perf_counter() - start

        for _ in range(5):
            call()  # loads the model and traces
        latencies, lock = [], threading.Lock()

        def client(count):
            for _ in range(count):
                elapsed = call()
                with lock:
                    latencies.append(elapsed)

        threads = [threading.Thread(target=client, args=(requests // clients,))
                   for _ in range(clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=30)
    ms = np.array(latencies) * 1000
    return {"clients": clients, "requests": len(latencies),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "requests_per_second": round(len(latencies) / wall, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    weights = model_for(1).get_weights()
    rows = []
    with tempfile.TemporaryDirectory() as base:
        export_saved_model(lambda assets: LanguageModelServing(model_for(1, weights), assets),
                           base, "lm")
        signature = tf.saved_model.load(str(Path(base) / "lm" / "1")).signatures["generate"]
        for batch in (1, 64):
            stateful = model_for(batch, weights)
            config = {**stateful.backbone.get_config(), "stateful": False, "batch_size": None}
            prefix = CausalLM(RNNBackbone.from_config(config), tie_weights=True)
            prefix.set_weights(weights)
            timings = {
                "in_graph_export": seconds(exported_generation(signature, batch, args.tokens),
                                           args.repeats),
                "python_loop_compiled": seconds(compiled_step_loop(stateful, batch, args.tokens),
                                                args.repeats),
                "python_loop_stateful": seconds(stateful_loop(stateful, batch, args.tokens),
                                                args.repeats),
                "python_loop_prefix": seconds(prefix_loop(prefix, batch, args.tokens),
                                              args.repeats),
            }
            per_token = {k: v / args.tokens * 1000 for k, v in timings.items()}
            row = {"batch": batch, "tokens": args.tokens,
                   **{f"{k}_ms_per_token": round(v, 3) for k, v in per_token.items()},
                   "speedup_vs_compiled": round(per_token["python_loop_compiled"]
                                                / per_token["in_graph_export"], 1),
                   "speedup_vs_stateful": round(per_token["python_loop_stateful"]
                                                / per_token["in_graph_export"], 1),
                   "speedup_vs_prefix": round(per_token["python_loop_prefix"]
                                              / per_token["in_graph_export"], 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
        serving = serve_latencies(base, args.requests)
        print(json.dumps(serving), flush=True)
    print(json.dumps({"date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "generation": rows, "next_words_through_serve": serving}, indent=2))


if __name__ == "__main__":
    main()
