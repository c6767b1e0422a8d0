"""The CLI in fresh processes, for the benchmarks: a timed command, and ``rnn-pipeline
serve`` on a free port."""

import subprocess
import sys
import time


def timed_run(command, what=""):
    """Runs ``command`` (a list) to its end; its wall seconds. A failure stops the
    benchmark with the command's output (``what`` is put in front)."""
    start = time.perf_counter()
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{what}{' '.join(map(str, command))} failed:\n"
                         f"{done.stdout}{done.stderr}")
    return wall


def start_serve(base):
    """``rnn-pipeline serve --base BASE --port 0`` in a subprocess; (process, port) once it
    listens. The caller terminates the process."""
    process = subprocess.Popen([sys.executable, "-m", "rnn_pipeline.cli.main", "serve",
                                "--base", str(base), "--port", "0"], stdout=subprocess.PIPE,
                               text=True)
    port = int(process.stdout.readline().split("http://127.0.0.1:")[1].split("/")[0])
    return process, port
