"""Benchmark: our vectors reader against gensim's ``load_word2vec_format``.

Writes a synthetic vectors file in each format (same words and values), reads it with
both readers, checks they agree, and prints the read time of each.

Usage:
    python benchmarks/vectors_reader.py --words 50000 --dim 200
"""

import argparse
import gzip
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def write_files(folder, words, matrix):
    lines = [w + " " + " ".join(f"{v:.6f}" for v in row) for w, row in zip(words, matrix)]
    text = "\n".join(lines) + "\n"
    files = {"glove": folder / "v.txt", "word2vec_text": folder / "v.w2v.txt",
             "word2vec_binary": folder / "v.bin"}
    files["glove"].write_text(text, encoding="utf-8")
    files["word2vec_text"].write_text(f"{len(words)} {matrix.shape[1]}\n" + text,
                                      encoding="utf-8")
    parsed = np.array([[float(f"{v:.6f}") for v in row] for row in matrix], np.float32)
    with open(files["word2vec_binary"], "wb") as f:
        f.write(f"{len(words)} {matrix.shape[1]}\n".encode())
        for word, row in zip(words, parsed):
            f.write(word.encode() + b" " + row.astype("<f4").tobytes() + b"\n")
    gz = folder / "v.txt.gz"
    with gzip.open(gz, "wb") as f:
        f.write(text.encode())
    files["glove.gz"] = gz
    return files, parsed


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main():
    from gensim.models import KeyedVectors

    from rnn_pipeline.embeddings import read_vectors

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=50000)
    parser.add_argument("--dim", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(args.words)]
    matrix = rng.normal(0, 0.5, (args.words, args.dim)).astype(np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files, parsed = write_files(Path(tmp), words, matrix)
        for name, path in files.items():
            fmt = name.removesuffix(".gz")
            ours, ours_s = timed(lambda: read_vectors(path, fmt))
            theirs, theirs_s = timed(lambda: KeyedVectors.load_word2vec_format(
                str(path), binary=fmt == "word2vec_binary", no_header=fmt == "glove"))
            assert ours.words == theirs.index_to_key
            np.testing.assert_allclose(ours.matrix, theirs.vectors, rtol=0, atol=0)
            rows.append({"format": name, "ours_seconds": round(ours_s, 2),
                         "gensim_seconds": round(theirs_s, 2), "mb": round(
                             path.stat().st_size / 2**20, 1)})
            print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"words": args.words, "dim": args.dim,
                      "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                      "results": rows}, indent=2))


if __name__ == "__main__":
    main()
