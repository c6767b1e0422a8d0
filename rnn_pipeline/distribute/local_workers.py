"""Local worker processes for ``rnn-pipeline fit PIPELINE --local-workers N``: one command
run N times on this machine, each with its own ``TF_CONFIG`` on free loopback ports, its
output prefixed with ``[worker i] `` (worker 0 is the chief)."""

import os
import signal
import socket
import subprocess
import threading
import time

from rnn_pipeline.distribute.tf_config import ENV_VAR, make_tf_config
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.progress import say

_POLL_SECONDS = 0.05
USAGE_ERROR = 2  # the exit code of a user's mistake (one "Error: ..." line)


def free_ports(n):
    """`n` distinct TCP ports free on 127.0.0.1 now (all held until all are chosen).

    Args:
        n: how many ports.
    """
    sockets = []
    try:
        for _ in range(n):
            sockets.append(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sockets[-1].bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _exit_code(returncode):
    return 128 - returncode if returncode < 0 else returncode  # 128 + N for signal N


def _start(command, env, addresses, index, emit):
    env = dict(env, **{ENV_VAR: make_tf_config(addresses, index), "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
        start_new_session=True)  # the launcher alone gets Ctrl-C, and forwards it once

    def pump():
        with proc.stdout:
            for line in proc.stdout:
                line = line.rstrip("\n")
                # A user's mistake is the same on every worker: its one line, once.
                emit(line if line.startswith("Error: ") else f"[worker {index}] {line}")

    reader = threading.Thread(target=pump, name=f"worker-{index}-output", daemon=True)
    reader.start()
    return proc, reader


def _wait_all(procs, seconds):
    """True once every process has exited; False if some still run after `seconds`."""
    deadline = time.monotonic() + seconds
    while any(proc.poll() is None for proc in procs):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS)
    return True


def _stop(procs, grace_seconds):
    """SIGTERM to those still running, SIGKILL to those left after `grace_seconds`."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    if not _wait_all(procs, grace_seconds):
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc in procs:
        proc.wait()


def _supervise(procs, emit, grace_seconds):
    """Waits for the chief (or a failure) and then for the rest; returns the exit code."""
    while True:
        codes = [proc.poll() for proc in procs]
        failed = next((i for i, code in enumerate(codes) if code), None)
        if failed is not None or codes[0] is not None:
            break
        time.sleep(_POLL_SECONDS)
    if failed is not None:
        if codes[failed] != USAGE_ERROR:  # a usage error's line says it all
            emit(f"[launcher] worker {failed} exited with code {codes[failed]}; stopping the "
                 "other workers")
        _stop(procs, grace_seconds)
        return _exit_code(codes[0] if codes[0] is not None else codes[failed])
    if not _wait_all(procs, grace_seconds):
        running = ", ".join(str(i) for i, proc in enumerate(procs) if proc.poll() is None)
        emit(f"[launcher] worker(s) {running} still running {grace_seconds}s after the chief "
             "finished; stopping them")
        _stop(procs, grace_seconds)
    return _exit_code(codes[0])


def _forward_signals(procs):
    """Installs SIGINT/SIGTERM handlers that pass the signal on to every running worker
    (a second one kills them); returns the previous handlers ({} off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    received = []

    def forward(signum, frame):
        received.append(signum)
        for proc in list(procs):
            if proc.poll() is None:
                proc.send_signal(signum if len(received) == 1 else signal.SIGKILL)

    return {signum: signal.signal(signum, forward) for signum in (signal.SIGINT, signal.SIGTERM)}


def run_local_workers(command, num_workers, env=None, out=None, grace_seconds=30):
    """Runs `command` as `num_workers` local workers of one cluster; returns the chief's
    exit code (128 + N for death by signal N).

    A worker that fails stops the others (SIGTERM, then SIGKILL after `grace_seconds`);
    then the chief's own code is returned if it had one, else the failed worker's. After
    the chief succeeds the others get `grace_seconds` to finish. SIGINT and SIGTERM sent
    to the launcher are forwarded to every worker.

    Args:
        command: the argv list every worker runs.
        num_workers: how many workers (an integer, at least 1).
        env: the workers' base environment (default a copy of `os.environ`); each gets its
            own TF_CONFIG and PYTHONUNBUFFERED=1.
        out: a callable given each output line, already prefixed and without its newline,
            one call at a time (default: print and flush).
        grace_seconds: how long to wait before stopping, and then killing, workers.
    """
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1:
        raise pipeline_error("--local-workers", "must be at least 1", num_workers)
    out, lock, shown = out or say, threading.Lock(), set()

    def emit(line):
        with lock:
            if line.startswith("Error: "):
                if line in shown:
                    return
                shown.add(line)
            out(line)

    addresses = [f"127.0.0.1:{port}" for port in free_ports(num_workers)]
    base = dict(os.environ if env is None else env)
    procs, readers, previous = [], [], {}
    try:
        previous = _forward_signals(procs)
        for index in range(num_workers):
            proc, reader = _start(command, base, addresses, index, emit)
            procs.append(proc)
            readers.append(reader)
        return _supervise(procs, emit, grace_seconds)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for reader in readers:
            reader.join(timeout=5)
