"""Benchmark: speech recognition on the Free Spoken Digit Dataset (issue 37).

Each model is fitted with ``rnn-pipeline fit <bundled pipeline> [--set ...]`` in a fresh
process (wall time: start-up, reading, training and the final scoring). Parts:

* ``official``: ``fsdd_digits`` (classify) on FSDD's official split (takes 0-4 are test),
  one run per ``--seeds`` value of ``train.seed``;
* ``speaker``: the same with ``speech.split = "speaker"``, each of the six speakers held
  out in turn; the mean accuracy over the six;
* ``ctc``: ``fsdd_ctc`` (utterances of 1-7 recordings of one speaker, official split),
  test WER and CER;
* ``latency``: the first ``official`` run exported, served by ``rnn-pipeline serve``
  (a subprocess), one recording per request as ``{"b64": ...}`` over loopback HTTP, one
  client; p50 and p99.

The same-run baseline of ``official`` and ``speaker`` is a logistic regression
(scikit-learn, standardised inputs) on the time-averaged log-mel frames (before the
per-utterance normalisation, which would make every average zero) of the same splits,
computed by the package's own feature code.

Usage (from the repository root, data from the mirror):
    RNN_PIPELINE_DATA_MIRROR=/work/shared/data python benchmarks/speech.py
    python benchmarks/speech.py --only official --seeds 0 1 2 --set train.epochs=40
"""

import argparse
import base64
import datetime
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from machine import cpu_name  # benchmarks/ is the script's folder, first on sys.path
from processes import start_serve, timed_run

SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
PARTS = ("official", "speaker", "ctc", "latency")
OFFICIAL_TARGET, CTC_WER_TARGET, BUDGET_SECONDS = 0.98, 0.05, 15 * 60


def fit(pipeline, run, overrides):
    """Fits ``pipeline`` in a fresh process into ``run``; its row of figures."""
    command = ["rnn-pipeline", "fit", pipeline, "--run-dir", str(run),
               *[x for o in overrides for x in ("--set", o)]]
    wall = timed_run(command)
    metrics = json.loads((run / "speech_metrics.json").read_text(encoding="utf-8"))
    history = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    row = {"command": " ".join(["rnn-pipeline", "fit", pipeline,
                                *[x for o in overrides for x in ("--set", o)]]),
           "epochs": len(history["epochs"]), "wall_seconds": round(wall, 1),
           "within_budget": wall <= BUDGET_SECONDS}
    for split in ("test", "valid"):
        row[split] = {k: round(100 * v, 2) for k, v in metrics[split].items()
                      if isinstance(v, float)}
    row["test_per_speaker"] = {
        speaker: {k: round(100 * v, 2) for k, v in scores.items() if isinstance(v, float)}
        for speaker, scores in metrics["test"].get("per_speaker", {}).items()}
    return row


def averaged_log_mel(workflow):
    """{split: (features [n, n_mels], labels)}: each recording's log-mel frames averaged
    over its real frames, from the package's feature code."""
    import tensorflow as tf

    from rnn_pipeline.tasks.speech.features import decode_wavs, log_mel_frames

    s = workflow.config.speech
    out = {}
    for name, examples in workflow.examples.items():
        rows = []
        for start in range(0, len(examples), 64):
            waveforms, lengths = decode_wavs(examples.audio[start:start + 64], s.sample_rate)
            frames, mask = log_mel_frames(waveforms, lengths, s.sample_rate, s.window_ms,
                                          s.hop_ms, s.n_mels)
            weight = tf.cast(mask, tf.float32)[..., None]
            rows.append((tf.reduce_sum(frames * weight, 1) / tf.reduce_sum(weight, 1)).numpy())
        out[name] = (np.concatenate(rows), np.array(examples.transcripts))
    return out


def logistic_regression(run):
    """Test and valid accuracy (%) of the baseline on the splits of ``run``'s config."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from rnn_pipeline.runs.folder import RunFolder
    from rnn_pipeline.tasks.speech.workflow import SpeechWorkflow

    workflow = SpeechWorkflow(RunFolder(run).load_config(), log=lambda *_: None)
    workflow.read_examples()  # the run's splits; no model is needed
    features = averaged_log_mel(workflow)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    model.fit(*features["train"])
    return {split: round(100 * float(model.score(*features[split])), 2)
            for split in ("test", "valid")}


def official(work, seeds, overrides):
    rows = [fit("fsdd_digits", work / f"official-{seed}", [f"train.seed={seed}", *overrides])
            for seed in seeds]
    accuracies = [r["test"]["accuracy"] for r in rows]
    return {"runs": rows, "test_accuracy_mean": round(statistics.mean(accuracies), 2),
            "test_accuracy_min": min(accuracies),
            "target_met": statistics.mean(accuracies) >= 100 * OFFICIAL_TARGET,
            "baseline_logistic_regression": logistic_regression(work / f"official-{seeds[0]}")}


def speaker(work, speakers, overrides):
    rows = {}
    for held_out in speakers:
        run = work / f"speaker-{held_out}"
        row = fit("fsdd_digits", run, ["speech.split=speaker",
                                       f"speech.test_speaker={held_out}", *overrides])
        row["baseline_logistic_regression"] = logistic_regression(run)
        rows[held_out] = row
        print(f"  held out {held_out}: {row['test']['accuracy']}% "
              f"(baseline {row['baseline_logistic_regression']['test']}%)", flush=True)
    mean = statistics.mean(r["test"]["accuracy"] for r in rows.values())
    baseline = statistics.mean(r["baseline_logistic_regression"]["test"] for r in rows.values())
    return {"runs": rows, "test_accuracy_mean": round(mean, 2),
            "baseline_test_accuracy_mean": round(baseline, 2)}


def ctc(work, overrides):
    row = fit("fsdd_ctc", work / "ctc", overrides)
    row["target_met"] = row["test"]["wer"] <= 100 * CTC_WER_TARGET
    return row


def latency(work, requests):
    """p50/p99 of one-recording REST requests to the first official run's export."""
    run = next(work.glob("official-*"))
    base = work / "saved_models"
    subprocess.run(["rnn-pipeline", "export", str(run), "--base", str(base), "--name",
                    "digits"], check=True, capture_output=True)
    from rnn_pipeline.tasks.speech.workflow import SpeechWorkflow

    workflow = SpeechWorkflow.from_run(run, log=lambda *_: None)
    workflow.read_examples()
    audio = workflow.examples["test"].audio
    process, port = start_serve(base)
    try:
        url = f"http://127.0.0.1:{port}/v1/models/digits:predict"

        def call(wav):
            body = json.dumps({"instances": [
                {"audio": {"b64": base64.b64encode(wav).decode()}}]}).encode()
            start = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(url, data=body)) as response:
                json.loads(response.read())
            return time.perf_counter() - start

        for wav in audio[:5]:
            call(wav)  # traces
        ms = np.array([call(audio[i % len(audio)]) for i in range(requests)]) * 1000
    finally:
        process.terminate()
        process.wait(timeout=30)
    seconds = [len(w) / 2 / 8000 for w in audio]  # 16-bit mono at 8 kHz
    return {"requests": requests, "batch": 1, "clients": 1,
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "mean_recording_seconds": round(statistics.mean(seconds), 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--speakers", nargs="+", choices=SPEAKERS, default=list(SPEAKERS))
    parser.add_argument("--set", action="append", default=[], dest="overrides",
                        help="KEY=VALUE for every classify fit (e.g. train.epochs=40)")
    parser.add_argument("--ctc-set", action="append", default=[], dest="ctc_overrides",
                        help="KEY=VALUE for the ctc fit")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--work", type=Path, help="keep the runs here (default: a temp dir)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    if "latency" in args.only and "official" not in args.only and args.work is None:
        parser.error("--only latency needs --work with an official run in it")
    report = {"date": datetime.date.today().isoformat(), "cpu": cpu_name(),
              "cores": os.cpu_count(), "load_average_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        if "official" in args.only:
            report["official"] = official(work, args.seeds, args.overrides)
            print(json.dumps(report["official"], indent=1), flush=True)
        if "speaker" in args.only:
            report["speaker"] = speaker(work, args.speakers, args.overrides)
        if "ctc" in args.only:
            report["ctc"] = ctc(work, args.ctc_overrides)
            print(json.dumps(report["ctc"], indent=1), flush=True)
        if "latency" in args.only:
            report["latency"] = latency(work, args.requests)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
