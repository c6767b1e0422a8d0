"""Benchmark: PTB perplexity with a random, a Word2Vec-initialised (trainable) and a
Word2Vec-initialised frozen embedding, on the full training split and on a 10% slice.

The vectors come from ``rnn-pipeline embed`` on the full PTB training split (the same
tokenizer and vocabulary as the language model). Every run is ``rnn-pipeline fit`` in a
fresh process with the same model and budget; only ``[embeddings]`` differs.

Usage:
    python benchmarks/pretrained_embeddings.py --epochs-full 1 --epochs-slice 6
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

PTB_TRAIN_LINES = 42068
INITS = {
    "random": [],
    "word2vec, trainable": ["--set", "embeddings.file={vectors}"],
    "word2vec, frozen": ["--set", "embeddings.file={vectors}", "--set",
                         "embeddings.trainable=false"],
}


def timed_run(command):
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="ptb_small")
    parser.add_argument("--epochs-full", type=int, default=1)
    parser.add_argument("--epochs-slice", type=int, default=6)
    parser.add_argument("--word2vec-epochs", type=int, default=5)
    parser.add_argument("--slices", nargs="+", default=["full", "10%"])
    args = parser.parse_args()
    # valid (3,370 lines) and test (3,761) are shorter than the slice: they stay whole
    slices = {"full": ([], args.epochs_full),
              "10%": (["--set", f"data.max_lines={PTB_TRAIN_LINES // 10}"], args.epochs_slice)}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        vectors = Path(tmp) / "ptb-word2vec.txt"
        w2v_seconds = timed_run(["rnn-pipeline", "embed", args.pipeline, "--out", str(vectors),
                                 "--set", f"word2vec.epochs={args.word2vec_epochs}"])
        print(json.dumps({"word2vec_seconds": round(w2v_seconds, 1)}), flush=True)
        for slice_name in args.slices:
            slice_args, epochs = slices[slice_name]
            for init, init_args in INITS.items():
                run = Path(tmp) / f"{slice_name.rstrip('%')}-{len(results)}"
                command = ["rnn-pipeline", "fit", args.pipeline, "--run-dir", str(run),
                           "--epochs", str(epochs), *slice_args,
                           *[a.format(vectors=vectors) for a in init_args]]
                wall = timed_run(command)
                final = json.loads((run / "metrics.json").read_text())["final"]
                row = {"slice": slice_name, "init": init, "epochs": epochs,
                       "train_tokens": final["train_tokens"],
                       "valid_perplexity": round(final["valid_perplexity"], 2),
                       "test_perplexity": round(final["test_perplexity"], 2),
                       "wall_seconds": round(wall, 1)}
                results.append(row)
                print(json.dumps(row), flush=True)
    print(json.dumps({"pipeline": args.pipeline, "date": datetime.date.today().isoformat(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "word2vec_seconds": round(w2v_seconds, 1), "results": results},
                     indent=2))


if __name__ == "__main__":
    main()
