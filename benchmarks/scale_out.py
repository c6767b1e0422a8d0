"""Benchmark: what checkpoints cost, and training throughput on 1 device, ``mirrored``
over N logical CPU devices and N local workers (MultiWorkerMirroredStrategy over
loopback gRPC), on the same pipeline and global batch.

Each configuration runs ``rnn-pipeline fit`` in fresh processes. Throughput is the
training tokens of an epoch after the first (the first traces the graphs) divided by that
epoch's seconds (``metrics.csv``). The checkpoint cost is the time spent in
`Checkpoints.save` (every write: TensorFlow's files and the sidecar) as a share of the
training time, at the default interval (every epoch end and every 10 minutes), measured
in-process on the 1-device run.

Usage:
    python benchmarks/scale_out.py default --epochs 3
    python benchmarks/scale_out.py default --epochs 3 --set data.max_lines=2000
"""

import argparse
import csv
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGURATIONS = {
    "1 device (default)": [],
    "mirrored, 2 logical CPU devices": ["--set", "train.strategy=mirrored",
                                        "--set", "train.devices=2"],
    "2 local workers (multi_worker)": ["--local-workers", "2"],
}


def tokens_per_second(run_dir):
    """Training tokens per second of the last epoch of a run."""
    final = json.loads((run_dir / "metrics.json").read_text())["final"]
    with open(run_dir / "metrics.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return final["train_tokens"] / float(rows[-1]["seconds"]), float(rows[-1]["seconds"])


def checkpoint_cost(pipeline, overrides, epochs):
    """(seconds in Checkpoints.save, saves, training seconds) of one in-process run."""
    from rnn_pipeline import api
    from rnn_pipeline.training.checkpoints import Checkpoints

    spent = {"seconds": 0.0, "saves": 0}
    save = Checkpoints.save

    def timed(self, position, callbacks):
        start = time.perf_counter()
        save(self, position, callbacks)
        spent["seconds"] += time.perf_counter() - start
        spent["saves"] += 1

    Checkpoints.save = timed
    _, config = api.pipeline_config(pipeline, (*overrides, f"train.epochs={epochs}"))
    with tempfile.TemporaryDirectory() as tmp:
        api.fit_pipeline(config, Path(tmp) / "run", log=lambda line: None)
        with open(Path(tmp) / "run" / "metrics.csv", encoding="utf-8") as f:
            training = sum(float(row["seconds"]) for row in csv.DictReader(f))
    return spent["seconds"], spent["saves"], training


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", nargs="?", default="default")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    sets = [item for pair in (("--set", o) for o in args.overrides) for item in pair]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, options in CONFIGURATIONS.items():
            run_dir = Path(tmp) / name.split()[0]
            start = time.perf_counter()
            subprocess.run(["rnn-pipeline", "fit", args.pipeline, "--epochs", str(args.epochs),
                            "--run-dir", str(run_dir), *sets, *options], env=env, check=True,
                           capture_output=True)
            rate, seconds = tokens_per_second(run_dir)
            final = json.loads((run_dir / "metrics.json").read_text())["final"]
            rows.append({"configuration": name, "tokens_per_second": round(rate),
                         "last_epoch_seconds": round(seconds, 2),
                         "wall_seconds": round(time.perf_counter() - start, 1),
                         "valid_perplexity": round(final["valid_perplexity"], 3)})
    saved, saves, training = checkpoint_cost(args.pipeline, args.overrides, args.epochs)
    report = {
        "pipeline": args.pipeline, "overrides": args.overrides, "epochs": args.epochs,
        "date": datetime.date.today().isoformat(), "cores": os.cpu_count(),
        "throughput": rows,
        "checkpoints": {"saves": saves, "seconds_per_save": round(saved / max(saves, 1), 3),
                        "training_seconds": round(training, 1),
                        "share_of_training": f"{saved / training:.2%}"},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
