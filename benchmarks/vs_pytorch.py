"""Benchmark: the project's training step against a PyTorch reference of the same model,
same initial weights, same batches and same optimizer, in alternating rounds of one run.

The model is PyTorch's ``word_language_model`` shape: embedding 200, 2 x 200 LSTM,
dropout 0.2 on the embedding output, between the layers and before the decoder, bptt 35,
batch 20, plain SGD at lr 20 with the gradient's global norm clipped to 0.25
(``clip_grad_norm_``; the project's ``train.global_clipnorm``), cross-entropy over V words.
The PyTorch reference is written here (not copied): ``nn.Embedding``, ``nn.LSTM``,
``nn.Linear``, the hidden state carried and detached between windows (truncated BPTT).
It starts from the project model's initial weights (Keras and PyTorch both order the
LSTM gates input, forget, cell, output).

The project side is its real fit path: `TrainingLoop` (the loop of ``rnn-pipeline fit``)
with the gradient monitor and the per-step gradient log, over a tf.data of the same
batches. Each round trains ``--steps`` steps on each system; the first round of each is
warm-up (tracing) and is not counted. Tokens/s are medians over the other rounds. The
share of peak uses 6 FLOPs per parameter use per token (forward + backward) over the
measured float32 peak of a 2048^2 matmul in the same run.

Batches: the PTB training split when the dataset resolves (cache or
RNN_PIPELINE_DATA_MIRROR), else Zipf-distributed word ids (stated in the output).

Usage:
    pip install -e '.[bench]'
    python benchmarks/vs_pytorch.py [--steps 40] [--rounds 4] [--shapes ptb,wikitext2]
        [--adaptive-cutoffs 2000,10000] [--bptt 35] [--dropout 0.2]

With ``--adaptive-cutoffs`` (default 2000,10000) a fourth system, the project with the
adaptive softmax head under XLA, trains the same batches wherever the vocabulary is larger
than the last cutoff (the WikiText-2 shape); the PyTorch reference keeps its full softmax.
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
import throughput  # noqa: E402  (the GEMM peak measurement)

E = H = 200
LAYERS, BPTT, BATCH, DROPOUT, LR, CLIP = 2, 35, 20, 0.2, 20.0, 0.25
VOCABS = {"ptb": 10_000, "wikitext2": 33_278}


def token_batches(vocab, steps):
    """``steps`` (x, y) int arrays of (BATCH, BPTT): PTB's training stream if available."""
    source = "zipf"
    try:
        from rnn_pipeline.config import DataConfig, TextConfig
        from rnn_pipeline.data.corpora import load_corpus
        from rnn_pipeline.data.text_pipeline import fit_text

        corpus = load_corpus(DataConfig(corpus="ptb", max_lines=4000))
        _, _, streams = fit_text({"train": corpus.split("train")}, TextConfig(
            normalization="none"))
        stream, source = streams["train"] % vocab, "ptb (first 4,000 lines)"
    except Exception:  # offline without the mirror: a Zipf sample of the same size
        rng = np.random.default_rng(0)
        stream = (rng.zipf(1.2, BATCH * BPTT * (steps + 1) + 1) - 1) % vocab
    rows = len(stream) // BATCH
    grid = np.asarray(stream[:rows * BATCH]).reshape(BATCH, rows)
    batches = []
    for i in range(steps):
        start = (i * BPTT) % (rows - BPTT - 1)
        batches.append((grid[:, start:start + BPTT].astype(np.int32),
                        grid[:, start + 1:start + BPTT + 1].astype(np.int32)))
    return batches, source


def project_model(vocab, cutoffs=()):
    import rnn_pipeline.models  # noqa: F401  (Keras on TensorFlow)
    from rnn_pipeline.config import ModelConfig, TrainConfig
    from rnn_pipeline.tasks.causal_lm.model import build_causal_lm
    from rnn_pipeline.training import make_optimizer

    model = build_causal_lm(ModelConfig(embedding_dim=E, units=H, num_layers=LAYERS,
                                        dropout=DROPOUT, embedding_dropout=DROPOUT,
                                        init_scale=0.1,
                                        head="adaptive" if cutoffs else "full",
                                        cutoffs=list(cutoffs)), vocab, BATCH)
    model.compile(optimizer=make_optimizer(TrainConfig(optimizer="sgd", learning_rate=LR,
                                                       global_clipnorm=CLIP)))
    return model


def project_runner(model, batches, csv_path, jit_compile=False, recurrence="loop",
                   precision="float32"):
    """A callable that trains one round through the project's fit loop, with
    ``train.jit_compile``, ``train.recurrence`` and ``train.precision`` as given (the
    settings `rnn_pipeline.training.fit` applies)."""
    import tensorflow as tf

    from rnn_pipeline.models.recurrence import set_training_recurrence
    from rnn_pipeline.training.gradients import GradientLog
    from rnn_pipeline.training.loop import TrainingLoop
    from rnn_pipeline.training.precision import training_precision, xla_for
    from rnn_pipeline.training.state import ResetStates

    xs = np.stack([x for x, _ in batches])
    ys = np.stack([y for _, y in batches])
    dataset = tf.data.Dataset.from_tensor_slices((xs, ys, np.ones_like(ys, np.float32)))
    set_training_recurrence(model, recurrence)
    loop = TrainingLoop(model, tf.distribute.get_strategy(),
                        [ResetStates(), GradientLog(csv_path)],
                        epochs=1, verbose=0, jit_compile=xla_for(precision, jit_compile))

    def one_round():
        with training_precision(model, precision):
            return float(loop.fit(dataset)["loss"])

    return one_round


def torch_runner(model, batches, vocab, threads, autocast=False):
    """The PyTorch reference with ``model``'s initial weights; returns a round callable.
    With ``autocast``, its forward pass runs under ``torch.autocast("cpu",
    dtype=torch.bfloat16)`` (PyTorch's own mixed bfloat16)."""
    import contextlib

    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    weights = {v.path: v.numpy() for v in model.weights}

    class Reference(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, E)
            self.lstm = nn.LSTM(E, H, LAYERS, dropout=DROPOUT)
            self.decoder = nn.Linear(H, vocab)
            self.drop = nn.Dropout(DROPOUT)

        def forward(self, x, state):  # x: (time, batch)
            out, state = self.lstm(self.drop(self.embedding(x)), state)
            return self.decoder(self.drop(out)), state  # (time, batch, vocab)

    reference = Reference()
    with torch.no_grad():
        reference.embedding.weight.copy_(torch.from_numpy(pick(weights, "embeddings")))
        for i in range(LAYERS):
            cell = {k: v for k, v in weights.items() if k.startswith(f"lstm_{i}/")}
            getattr(reference.lstm, f"weight_ih_l{i}").copy_(
                torch.from_numpy(pick(cell, "/kernel").T))
            getattr(reference.lstm, f"weight_hh_l{i}").copy_(
                torch.from_numpy(pick(cell, "recurrent_kernel").T))
            getattr(reference.lstm, f"bias_ih_l{i}").copy_(torch.from_numpy(pick(cell, "bias")))
            getattr(reference.lstm, f"bias_hh_l{i}").zero_()
        head = {k: v for k, v in weights.items() if k.startswith("lm_head")}
        reference.decoder.weight.copy_(torch.from_numpy(pick(head, "kernel").T))
        reference.decoder.bias.copy_(torch.from_numpy(pick(head, "bias")))
    reference.train()
    loss_fn = nn.CrossEntropyLoss()
    pairs = [(torch.from_numpy(x.T.copy()).long(), torch.from_numpy(y.T.copy()).long())
             for x, y in batches]

    def one_round():
        state = (torch.zeros(LAYERS, BATCH, H), torch.zeros(LAYERS, BATCH, H))
        for x, y in pairs:
            state = tuple(s.detach() for s in state)
            reference.zero_grad()
            with (torch.autocast("cpu", dtype=torch.bfloat16) if autocast
                  else contextlib.nullcontext()):
                logits, state = reference(x, state)
                loss = loss_fn(logits.reshape(-1, vocab), y.reshape(-1))
            state = tuple(s.float() for s in state)
            loss.backward()
            nn.utils.clip_grad_norm_(reference.parameters(), CLIP)
            with torch.no_grad():
                for p in reference.parameters():
                    p.add_(p.grad, alpha=-LR)
        return float(loss.detach())

    return one_round


def adaptive_parameter_uses(vocab, cutoffs, div_value=4.0):
    """Weights an adaptive head multiplies per token (every tail is scored every token)."""
    bounds = [*cutoffs, vocab]
    uses = H * (cutoffs[0] + len(cutoffs))
    for i, (start, end) in enumerate(zip(bounds[:-1], bounds[1:])):
        width = max(1, round(H / div_value ** (i + 1)))
        uses += H * width + width * (end - start)
    return uses


def pick(weights, suffix):
    """The one array whose name ends with ``suffix``."""
    found = [v for k, v in weights.items() if k.endswith(suffix)]
    if len(found) != 1:
        raise KeyError(f"{suffix}: {sorted(weights)}")
    return found[0]


# The project's systems: (train.precision, train.recurrence, train.jit_compile).
SYSTEMS = {
    "float32 loop (before issue 38)": ("float32", "loop", False),
    "float32 loop + jit_compile (before issue 38)": ("float32", "loop", True),
    "float32 unrolled + jit_compile": ("float32", "unrolled", True),
    "float32 unrolled": ("float32", "unrolled", False),
    "float32 fused": ("float32", "fused", False),
    "mixed_bfloat16 unrolled": ("mixed_bfloat16", "unrolled", False),
    "mixed_bfloat16 fused": ("mixed_bfloat16", "fused", False),
}


def compare(shape, steps, rounds, peak, cutoffs=(), systems=None):
    vocab = VOCABS[shape]
    batches, source = token_batches(vocab, steps)
    model = project_model(vocab)
    chosen = {name: SYSTEMS[name] for name in (systems or SYSTEMS)}
    with tempfile.TemporaryDirectory() as folder:
        systems = {"pytorch float32": torch_runner(model, batches, vocab, os.cpu_count()),
                   "pytorch bf16 autocast": torch_runner(model, batches, vocab,
                                                         os.cpu_count(), autocast=True)}
        for i, (name, (precision, recurrence, jit)) in enumerate(chosen.items()):
            systems[f"project {name}"] = project_runner(model if i == 0 else project_model(vocab),
                                           batches, Path(folder) / f"{i}.csv", jit,
                                           recurrence, precision)
        if cutoffs and cutoffs[-1] < vocab:  # the project's adaptive head vs PyTorch's full
            for precision, jit in (("float32", True), ("mixed_bfloat16", False)):
                systems[f"project {precision} adaptive head unrolled"
                        f"{' + jit_compile' if jit else ''}"] = project_runner(
                    project_model(vocab, cutoffs), batches,
                    Path(folder) / f"adaptive-{precision}.csv", jit, "unrolled", precision)
        losses = {name: [run()] for name, run in systems.items()}  # warm-up: tracing
        rates = {name: [] for name in systems}
        for _ in range(rounds):  # alternating rounds: all see the same machine
            for name, run in systems.items():
                start = time.perf_counter()
                losses[name].append(run())
                rates[name].append(steps * BATCH * BPTT / (time.perf_counter() - start))
    recurrent = E * 4 * H + H * 4 * H + (LAYERS - 1) * 8 * H * H
    row = {"shape": shape, "vocab": vocab, "batches": source}
    for name, values in rates.items():
        median = float(np.median(values))
        if "adaptive" in name:  # its own FLOPs (every tail, every token)
            flops = 6 * (recurrent + adaptive_parameter_uses(vocab, cutoffs))
        else:
            flops = 6 * (recurrent + H * vocab)
        row[name] = {"tokens_per_second": round(median), "rounds": [round(v) for v in values],
                     "loss_after_each_round": [round(v, 3) for v in losses[name]],
                     "gflops": round(median * flops / 1e9, 1),
                     "share_of_peak": round(median * flops / 1e9 / peak, 3)}
    for name in systems:
        for reference in ("pytorch float32", "pytorch bf16 autocast"):
            if name.startswith("project"):
                row[f"ratio {name} / {reference}"] = round(
                    row[name]["tokens_per_second"] / row[reference]["tokens_per_second"], 3)
    return row


def main():
    global BPTT, DROPOUT  # the model's shape, read by every function above
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--shapes", default="ptb,wikitext2")
    parser.add_argument("--adaptive-cutoffs", default="2000,10000",
                        help="also train the project with model.head = 'adaptive' and these "
                             "cutoffs where the vocabulary is larger ('' = not)")
    parser.add_argument("--bptt", type=int, default=BPTT,
                        help="window length (35: word_language_model; 20: ptb_small)")
    parser.add_argument("--dropout", type=float, default=DROPOUT,
                        help="dropout of both systems (0.2: word_language_model; 0: ptb_small)")
    parser.add_argument("--systems", default="",
                        help="project systems, separated by ';' (default: every one of SYSTEMS)")
    parser.add_argument("--gemms", action="store_true",
                        help="also measure every GEMM shape of the model (throughput.py)")
    args = parser.parse_args()
    BPTT, DROPOUT = args.bptt, args.dropout
    import torch

    peak = throughput.gemm_gflops(2048, 2048, 2048)
    cutoffs = [int(c) for c in args.adaptive_cutoffs.split(",") if c]
    chosen = [name.strip() for name in args.systems.split(";") if name.strip()]
    rows = [compare(shape, args.steps, args.rounds, peak, cutoffs, chosen)
            for shape in args.shapes.split(",")]
    report = {"date": datetime.date.today().isoformat(),
              "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
              "cpu": machine.cpu_name(), "bfloat16_flags": machine.bfloat16_flags(),
              "torch": torch.__version__, "peak_2048_gflops": round(peak, 1),
              "steps_per_round": args.steps, "bptt": BPTT, "dropout": DROPOUT,
              "results": rows}
    if args.gemms:
        report["gemms"] = throughput.gemm_peaks()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
