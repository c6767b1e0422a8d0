"""Issue 35's sweep: bad or odd inputs across every command, as a user types them.

Each case runs the installed ``rnn-pipeline`` entry point as a subprocess, in a fresh
working folder with its own copies of the fixtures it may damage (tiny fitted runs of
the three tasks, an export base, a vectors file, prepared once in a temporary folder),
and declares what the user should get:

* ``refuse``: exit 2 (1 for a fault during training), the whole output one line that
  starts with ``Error: `` and names something of the case (its ``fragment``: the key,
  option, file or value), and nothing created or changed in the working folder;
* ``accept``: exit 0 (and, where a case says so, the result it promises).

Verdicts: GOOD (as declared), TRACEBACK (a Python traceback, or a crash exit such as
134, 137 or a signal), HANG (the timeout), SILENT (exit 0 where a refusal was declared;
for ``serve``: it started serving), LEFTOVER (refused, but files were created or changed:
a listing of the working folder with sizes and mtimes, hidden files included, taken
before and after), MULTILINE (refused in more than one line), MISLEADING (one line, but
without the fragment, or not an ``Error:`` line, or another exit code), WRONG (``accept``
declared but it failed). A result with several faults gets the first of that order;
the JSON lists them all.

The exact command (the lead runs it with the cores idle; about 20-30 minutes on 2 cores):

    RNN_PIPELINE_DATA_MIRROR=/work/shared/data MPLBACKEND=Agg \\
        python benchmarks/input_sweep.py --json input_sweep.json

Select cases with ``--only ID,ID``, ``--kind KIND`` or ``--limit N``; ``--list`` lists
them. The exit code is always 0: this is a measurement, not a test.
"""

import argparse
import collections
import dataclasses
import datetime
import json
import math
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional

from machine import cpu_name  # benchmarks/ is the script's folder, first on sys.path

VERDICTS = ["HANG", "TRACEBACK", "SILENT", "LEFTOVER", "MULTILINE", "MISLEADING", "WRONG",
            "GOOD"]
KINDS = {"option": "out-of-range or malformed option values",
         "path": "paths of the wrong kind, missing, unreadable, too long, read-only",
         "pipeline": "bad pipeline keys and values, per task",
         "run": "damaged run folders, a run being trained",
         "data": "bad data files: CSV, corpus, pairs, vectors",
         "export": "export bases and versions",
         "serve": "serve: bad host, port, base (started, probed, stopped)",
         "valid": "odd but valid inputs that must be accepted"}
TIMEOUT = 120.0
SERVE_WAIT = 60.0  # seconds for serve to refuse, or to say it is serving
CRASH_MARKS = ("Traceback (most recent call last)", "terminate called", "Fatal Python error",
               "Segmentation fault", "core dumped")


# --- tiny pipelines and their data ------------------------------------------------------
TEXT = ["the cat sat on the mat", "the dog sat on the log",
        "a cat and a dog met on the mat", "東京 で 猫 が 寝た", "the bird sat on the cat",
        "猫 と 犬 が 会った", "the mat was red and the log was brown", "a dog ran to the log"]
PAIRS = [(f"{a} {b} {c}", f"{c.upper()} {a.upper()} {b.upper()}") for a, b, c in [
    ("red", "cat", "runs"), ("blue", "dog", "sleeps"), ("green", "bird", "sings"),
    ("red", "dog", "eats"), ("blue", "cat", "jumps"), ("small", "fish", "swims"),
    ("big", "cow", "walks"), ("old", "horse", "rests"), ("young", "goat", "climbs"),
    ("red", "bird", "flies"), ("green", "frog", "hops"), ("white", "bear", "hunts"),
    ("black", "wolf", "howls"), ("brown", "owl", "watches"), ("grey", "seal", "dives"),
    ("pink", "pig", "digs"), ("tall", "deer", "runs"), ("slow", "snail", "crawls"),
    ("quick", "fox", "jumps"), ("lazy", "cat", "sleeps")]]


def monthly_rows(months=144):
    """A monthly CSV shaped like the airline passengers: trend times a yearly season."""
    rows = ['"Month","Passengers"']
    for t in range(months):
        value = round((110 + 2.5 * t) * (1 + 0.2 * math.sin(2 * math.pi * t / 12)))
        rows.append(f'"{1949 + t // 12}-{t % 12 + 1:02d}",{value}')
    return rows


def lines(rows):
    return "\n".join(rows) + "\n"


# task -> (data files {name: text}, pipeline {section: {key: value}}); "@name" is the
# absolute path of data file ``name`` beside the pipeline.
TASKS = {
    "lm": ({"train.txt": lines(TEXT * 3), "valid.txt": lines(TEXT), "test.txt": lines(TEXT)},
           {"name": "tiny",
            "data": {"corpus": "files", "train": ["@train.txt"], "valid": ["@valid.txt"],
                     "test": ["@test.txt"]},
            "model": {"embedding_dim": 4, "units": 4, "num_layers": 1},
            "train": {"epochs": 1, "batch_size": 2, "bptt": 4}}),
    "fc": ({"monthly.csv": lines(monthly_rows())},
           {"name": "air", "task": "forecast",
            "series": {"csv": "@monthly.csv", "time_column": "Month",
                       "targets": ["Passengers"], "season": 12, "lookback": 24, "horizon": 12},
            "model": {"cell": "gru", "units": 8, "num_layers": 1},
            "train": {"epochs": 1, "batch_size": 16, "learning_rate": 0.05}}),
    "mt": ({"pairs.tsv": "".join(f"{s}\t{t}\tCC-BY\n" for s, t in PAIRS)},
           {"name": "tiny_mt", "task": "translation",
            "pairs": {"file": "@pairs.tsv", "valid_fraction": 0.1, "test_fraction": 0.1},
            "source_text": {"normalization": "none"},
            "target_text": {"normalization": "none", "tokenizer": "character"},
            "model": {"cell": "gru", "embedding_dim": 8, "units": 8, "num_layers": 1,
                      "attention": "dot"},
            "train": {"epochs": 1, "batch_size": 8, "learning_rate": 0.01},
            "decode": {"num_beams": 2, "max_tokens": 12}}),
}
DELETE = object()  # a change that removes the key


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # nan and inf are TOML floats too
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def toml_text(config):
    """TOML of a {key: scalar, section: {key: scalar}} dict (all a pipeline needs here)."""
    top = [f"{k} = {toml_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    sections = [f"\n[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in body.items())
                for name, body in config.items() if isinstance(body, dict)]
    return "\n".join(top) + "\n" + "".join(sections)


def write_pipeline(folder, task, changes=None, files=None):
    """Data files and ``<task>.toml`` of tiny pipeline ``task`` in ``folder``; ``changes``
    {"section.key" or "key": value or DELETE} edit the pipeline, ``files`` {name: text,
    bytes or None (absent)} replace its data files. Returns the pipeline's path."""
    data, base = TASKS[task]
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in {**data, **(files or {})}.items():
        if content is None:
            continue
        path = folder / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(
            content, encoding="utf-8")
    config = json.loads(json.dumps(base))
    for key, value in (changes or {}).items():
        *section, leaf = key.split(".")
        table = config[section[0]] if section and section[0] in config else config
        if section and section[0] not in config:
            table = config.setdefault(section[0], {})
        if value is DELETE:
            table.pop(leaf, None)
        else:
            table[leaf] = value

    def resolve(value):
        if isinstance(value, str) and value.startswith("@"):
            return (folder / value[1:]).as_posix()
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    path = folder / f"{task}.toml"
    path.write_text(toml_text(resolve(config)), encoding="utf-8")
    return path


def vectors_text(rows):
    """word2vec text: a header line and one ``word v1 .. vD`` row per entry."""
    return f"{len(rows)} {len(rows[0][1])}\n" + "".join(
        f"{word} {' '.join(str(v) for v in vec)}\n" for word, vec in rows)


VECTOR_WORDS = sorted({w for line in TEXT for w in line.split()})
VECTORS = [(w, [round(math.sin(i + d), 4) for d in range(4)]) for i, w in enumerate(VECTOR_WORDS)]


# --- fixtures: built once, on first use, in a temporary folder -------------------------
class FixtureError(RuntimeError):
    pass


class Fixtures:
    """The files a user would have: ``path(name)`` builds fixture ``name`` on first use."""

    def __init__(self, root, entry, env):
        self.root, self.entry, self.env = root, entry, env
        self.built, self.failed = {}, {}

    def _cli(self, *args):
        done = subprocess.run([self.entry, *map(str, args)], cwd=self.root, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=600)
        if done.returncode != 0:
            raise FixtureError(f"rnn-pipeline {' '.join(map(str, args))} failed:\n"
                               f"{done.stdout[-3000:]}")

    def _fitted(self, task):
        run = self.root / f"{task}_run"
        self._cli("fit", self.path(f"{task}_toml"), "--run-dir", run)
        return run

    def _build(self, name):
        root = self.root
        if name in ("lm_toml", "fc_toml", "mt_toml"):
            return write_pipeline(root / name[:2], name[:2])
        if name in ("lm_run", "fc_run", "mt_run"):
            return self._fitted(name[:2])
        if name == "exports":
            self._cli("export", self.path("lm_run"), "--base", root / "exports")
            return root / "exports"
        if name == "recent_csv":
            path = root / "recent.csv"
            path.write_text(lines(monthly_rows()[:41]))
            return path
        if name == "vectors":
            path = root / "vectors.txt"
            path.write_text(vectors_text(VECTORS), encoding="utf-8")
            return path
        raise KeyError(name)

    def path(self, name):
        if name in self.failed:
            raise self.failed[name]
        if name not in self.built:
            started = time.time()
            try:
                self.built[name] = self._build(name)
            except FixtureError as exc:
                self.failed[name] = exc
                raise
            print(f"  (fixture {name} ready in {time.time() - started:.0f}s)", flush=True)
        return self.built[name]


class Context(dict):
    """A case's placeholders, filled on first use: ``work`` (its folder), ``run_dir`` (a
    new run folder in it), ``free_port``, and a copy in ``work`` of each fixture
    (lm_run, fc_run, mt_run, exports, recent_csv, vectors; lm_toml, fc_toml, mt_toml are
    written afresh with their data); setups add their own keys."""

    def __init__(self, work, fixtures):
        super().__init__(work=work, run_dir=work / "run")
        self.work, self.fixtures = work, fixtures
        self.cleanups = []
        self.prefix = []  # a command line wrapped around the entry point (setpriv)

    def __missing__(self, key):
        if key in ("lm_toml", "fc_toml", "mt_toml"):
            value = write_pipeline(self.work / key[:2], key[:2])
        elif key == "free_port":
            value = free_port()
        else:
            source = self.fixtures.path(key)
            value = self.work / source.name
            if source.is_dir():
                shutil.copytree(source, value, symlinks=True)
            else:
                shutil.copy2(source, value)
        self[key] = value
        return value


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- setup helpers: each returns setup(ctx) -------------------------------------------
def setups(*steps):
    def run_all(ctx):
        for step in steps:
            step(ctx)
    return run_all


def pipeline(task, changes=None, files=None):
    """``{pipeline}``: tiny pipeline ``task`` in work/<task>/ with changed keys or data."""
    def fill(value, ctx):
        if isinstance(value, str):
            return value.format_map(ctx)
        return [fill(v, ctx) for v in value] if isinstance(value, list) else value

    def setup(ctx):
        filled = {key: fill(value, ctx) for key, value in (changes or {}).items()}
        ctx["pipeline"] = write_pipeline(ctx.work / task, task, filled, files)
    return setup


def write(name, content, mode=None):
    """A file (text or bytes) or, with content None, a folder ``name`` in work."""
    def setup(ctx):
        path = ctx.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir(exist_ok=True)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.format_map(ctx), encoding="utf-8")
        if mode is not None:
            path.chmod(mode)
    return setup


def damage(fixture, name, how):
    """Damage file ``name`` of the copy of ``fixture``: "delete", "truncate", "empty",
    "garbage", "folder" (replaced by a folder)."""
    def setup(ctx):
        path = ctx[fixture] / name
        if how == "truncate":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
        elif how == "empty":
            path.write_bytes(b"")
        elif how == "garbage":
            path.write_text("this is [not = toml\n")
        else:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            if how == "folder":
                path.mkdir()
    return setup


def edit(fixture, name, old, new):
    def setup(ctx):
        path = ctx[fixture] / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return setup


def _chattr(flag, path, recursive=False):
    subprocess.run(["chattr", *(["-R"] if recursive else []), flag, str(path)], check=True,
                   capture_output=True)


def read_only(name, recursive=False):
    """Folder ``name`` of work (created if missing) made unwritable: the immutable
    attribute for root (whom permissions do not stop), chmod otherwise."""
    def setup(ctx):
        folder = ctx.work / name
        folder.mkdir(parents=True, exist_ok=True)
        make_read_only(ctx, folder, recursive)
    return setup


def make_read_only(ctx, folder, recursive=False):
    if os.geteuid() == 0:
        _chattr("+i", folder, recursive)
        ctx.cleanups.append(lambda: _chattr("-i", folder, recursive))
    else:
        paths = [folder, *folder.rglob("*")] if recursive else [folder]
        for path in paths:
            path.chmod(path.stat().st_mode & ~0o222)
        ctx.cleanups.append(lambda: [p.chmod(p.stat().st_mode | 0o200) for p in paths])


def unreadable(name):
    """File ``name`` of work made unreadable: chmod 000, and for root the command runs
    without the capabilities that let root read anything (setpriv)."""
    def setup(ctx):
        (ctx.work / name).chmod(0)
        ctx.cleanups.append(lambda: (ctx.work / name).chmod(0o644))
        if os.geteuid() == 0:
            drop = "-dac_override,-dac_read_search"
            ctx.prefix = ["setpriv", "--bounding-set", drop, "--inh-caps", drop]
    return setup


LOCK_HOLDER = ("import fcntl, json, os, sys, time; f = open(sys.argv[1], 'a+'); "
               "fcntl.flock(f, fcntl.LOCK_EX); f.truncate(0); f.write(json.dumps({'pid': "
               "os.getpid(), 'host': os.uname().nodename, 'started': 'now'})); f.flush(); "
               "print('held', flush=True); time.sleep(300)")


def hold_lock(fixture):
    """A live process holding the copy's ``train.lock``, as a training process does;
    ``{lock_pid}`` is its pid."""
    def setup(ctx):
        holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER,
                                   str(ctx[fixture] / "train.lock")],
                                  stdout=subprocess.PIPE, text=True)
        ctx.cleanups.append(lambda: (holder.kill(), holder.wait()))
        if holder.stdout.readline().strip() != "held":
            raise FixtureError("the lock holder did not start")
        ctx["lock_pid"] = holder.pid
    return setup


def stale_lock(fixture):
    def setup(ctx):
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout.strip()
        (ctx[fixture] / "train.lock").write_text(
            json.dumps({"pid": int(dead), "host": os.uname().nodename, "started": "then"}))
    return setup


def read_only_after_first_checkpoint(run_name="run"):
    """Makes work/<run_name> (all of it) read-only as soon as its first checkpoint is
    written: the run folder that stops being writable during training."""
    def setup(ctx):
        run, stop = ctx.work / run_name, threading.Event()

        def watch():
            while not stop.is_set():
                if any((run / "checkpoints").glob("ckpt-*")):
                    time.sleep(0.2)  # let the checkpoint finish
                    make_read_only(ctx, run, recursive=True)
                    return
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        ctx.cleanups.insert(0, lambda: (stop.set(), watcher.join()))
    return setup


def busy_port(ctx):
    """``{busy_port}``: a port this script listens on for the case's life."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    ctx["busy_port"] = sock.getsockname()[1]
    ctx.cleanups.append(sock.close)


def dead_export_leftover(ctx):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (ctx["exports"] / "tiny" / f".export-{dead}-abc123" / "variables").mkdir(parents=True)


# --- checks of accepted results: each returns a problem or None -----------------------
def exists(*names):
    def check(ctx, output):
        missing = [n for n in names if not (ctx.work / n.format_map(ctx)).exists()]
        return f"missing: {', '.join(missing)}" if missing else None
    return check


def says(text):
    def check(ctx, output):
        return None if text.format_map(ctx) in output else f"the output lacks {text!r}"
    return check


def no_export_leftovers(ctx, output):
    left = [p.name for p in (ctx["exports"] / "tiny").glob(".export-*")]
    return f"left: {left}" if left else None


def nothing_written(ctx, output):
    return "it wrote runs/" if (ctx.work / "runs").exists() else None


# --- the cases ---------------------------------------------------------------------------
@dataclasses.dataclass
class Case:
    id: str
    kind: str  # a key of KINDS
    argv: list  # after ``rnn-pipeline``: shlex words, "{placeholder}"s filled from the Context
    setup: Optional[Callable] = None
    expect: str = "refuse"  # or "accept"
    fragment: str = ""  # refuse: text the Error line must contain (placeholders allowed)
    code: int = 2  # refuse: the exit code (1 for a fault during training)
    keeps: tuple = ()  # refuse: paths of work that may be created or changed (a kept run)
    check: Optional[Callable] = None  # accept: check(ctx, output) -> problem or None
    timeout: float = TIMEOUT
    probe: str = "/v1/models/tiny"  # serve: the path asked once it serves


def refuse(id, kind, argv, fragment, setup=None, **more):
    return Case(id, kind, shlex.split(argv), setup, "refuse", fragment, **more)


def accept(id, kind, argv, setup=None, **more):
    return Case(id, kind, shlex.split(argv), setup, "accept", **more)


GEN = "generate {lm_run} --prompt the"
FIT = "fit {lm_toml} --run-dir {run_dir}"
FIT_P = "fit {pipeline} --run-dir {run_dir}"
LONG = "n" * 300
CASES = [
    # generate options
    refuse("gen-max-tokens-0", "option", GEN + " --max-tokens 0", "--max-tokens"),
    refuse("gen-max-tokens-huge", "option", GEN + " --max-tokens 1000000000", "--max-tokens"),
    refuse("gen-max-tokens-text", "option", GEN + " --max-tokens ten", "--max-tokens"),
    refuse("gen-max-tokens-empty", "option", GEN + " --max-tokens ''", "--max-tokens"),
    refuse("gen-temperature-0", "option", GEN + " --temperature 0", "--temperature"),
    refuse("gen-temperature-nan", "option", GEN + " --temperature nan", "--temperature"),
    refuse("gen-top-p-1.5", "option", GEN + " --sampler top_p --top-p 1.5", "--top-p"),
    refuse("gen-top-k-1e20", "option", GEN + " --top-k 100000000000000000000", "--top-k"),
    refuse("gen-num-beams-0", "option", GEN + " --sampler beam --num-beams 0", "--num-beams"),
    refuse("gen-num-beams-1e9", "option", GEN + " --sampler beam --num-beams 1000000000",
           "--num-beams"),
    refuse("gen-seed-2e32", "option", GEN + " --seed 4294967297", "--seed"),
    refuse("gen-sampler-unknown", "option", GEN + " --sampler nucleus", "--sampler"),
    refuse("gen-unknown-option", "option", GEN + " --no-such-option", "--no-such-option"),
    # evaluate, translate, neighbors, diagnose, embed, list and the group
    refuse("eval-batch-1e5", "option", "evaluate {lm_run} --batch-size 100000", "--batch-size"),
    refuse("eval-batch-1e20", "option", "evaluate {lm_run} --batch-size 100000000000000000000",
           "--batch-size"),
    refuse("eval-split-unknown", "option", "evaluate {lm_run} --split dev", "--split"),
    refuse("tr-num-beams-0", "option", "translate {mt_run} --text 'red cat runs' --num-beams 0",
           "--num-beams"),
    refuse("tr-no-text", "option", "translate {mt_run}", "--text"),
    refuse("tr-empty-text", "option", "translate {mt_run} --text ''", "--text"),
    refuse("nb-k-0", "option", "neighbors {lm_run} cat --k 0", "--k"),
    refuse("nb-word-unknown", "option", "neighbors {lm_run} zebra", "zebra"),
    refuse("diag-steps-1", "option", "diagnose {lm_run} --steps 1", "--steps"),
    refuse("diag-batch-1e9", "option",
           "diagnose {lm_run} --batch 1000000000 --steps 3 --train-steps 1", "--batch"),
    refuse("diag-cells-unknown", "option", "diagnose {lm_toml} --cells lstm,transformer "
           "--steps 3 --batch 2 --train-steps 1 --out {work}/diag", "transformer"),
    refuse("diag-set-on-run", "option", "diagnose {lm_run} --set model.units=8 --out {work}/diag",
           "--set"),
    refuse("embed-method-unknown", "option", "embed {lm_toml} --set word2vec.method=glove "
           "--out {work}/v.txt", "word2vec.method"),
    refuse("embed-epochs-1e20", "option", "embed {lm_toml} --set "
           "word2vec.epochs=100000000000000000000 --out {work}/v.txt", "word2vec.epochs"),
    refuse("command-unknown", "option", "frobnicate", "frobnicate"),
    # fit options
    refuse("fit-epochs-0", "option", FIT + " --epochs 0", "--epochs"),
    refuse("fit-epochs-1e20", "option", FIT + " --epochs 100000000000000000000", "--epochs"),
    refuse("fit-local-workers-0", "option", FIT + " --local-workers 0", "--local-workers"),
    refuse("fit-set-no-equals", "option", FIT + " --set model.units", "model.units"),
    refuse("fit-resume-and-pipeline", "option", "fit {lm_toml} --resume {lm_run} --epochs 2",
           "--resume"),
    # export options
    refuse("export-version-0", "option", "export {lm_run} --base {work}/exp --version 0",
           "--version"),
    refuse("export-version-1e20", "option",
           "export {lm_run} --base {work}/exp --version 99999999999999999999", "--version"),
    refuse("export-limit-1e12", "option",
           "export {lm_run} --base {work}/exp --max-tokens-limit 1000000000000",
           "--max-tokens-limit"),
    refuse("export-name-slash", "option", "export {lm_run} --base {work}/exp --name a/b",
           "--name"),

    # --- paths ---------------------------------------------------------------------------
    refuse("fit-pipeline-missing", "path", "fit {work}/nowhere.toml", "nowhere.toml"),
    refuse("fit-pipeline-folder", "path", "fit {work}/adir", "adir", write("adir", None)),
    refuse("fit-pipeline-unreadable", "path", "fit {pipeline} --run-dir {run_dir}", "lm.toml",
           setups(pipeline("lm"), unreadable("lm/lm.toml"))),
    refuse("fit-run-dir-inside-file", "path", "fit {lm_toml} --run-dir {work}/afile/run",
           "--run-dir", write("afile", "x")),
    refuse("fit-run-dir-long-name", "path", f"fit {{lm_toml}} --run-dir {{work}}/{LONG}/run",
           "--run-dir"),
    refuse("fit-run-dir-read-only", "path", "fit {lm_toml} --run-dir {work}/locked/run",
           "--run-dir", read_only("locked")),
    refuse("fit-run-dir-existing-run", "path", "fit {lm_toml} --run-dir {lm_run}", "--run-dir"),
    refuse("fit-resume-not-a-run", "path", "fit --resume {work}/adir", "--resume",
           write("adir/notes.txt", "x")),
    refuse("eval-run-file", "path", "evaluate {work}/afile", "RUN", write("afile", "x")),
    refuse("eval-run-empty-folder", "path", "evaluate {work}/adir", "RUN", write("adir", None)),
    refuse("gen-on-forecast-run", "path", "generate {fc_run} --prompt the", "RUN"),
    refuse("tr-on-lm-run", "path", "translate {lm_run} --text 'the cat'", "RUN"),
    refuse("fc-on-lm-run", "path", "forecast {lm_run} --input {recent_csv}", "RUN"),
    refuse("nb-on-forecast-run", "path", "neighbors {fc_run} cat", "RUN"),
    refuse("diag-on-translation-run", "path", "diagnose {mt_run} --out {work}/diag", "RUN"),
    refuse("embed-on-forecast-pipeline", "path", "embed {fc_toml} --out {work}/v.txt",
           "forecast"),
    refuse("export-base-inside-file", "path", "export {lm_run} --base {work}/afile/exp",
           "--base", write("afile", "x")),
    refuse("export-base-read-only", "path", "export {lm_run} --base {work}/locked/exp",
           "--base", read_only("locked")),
    refuse("export-base-long-name", "path", f"export {{lm_run}} --base {{work}}/{LONG}",
           "--base"),
    refuse("fc-input-missing", "path", "forecast {fc_run} --input {work}/nowhere.csv",
           "nowhere.csv"),
    refuse("fc-input-folder", "path", "forecast {fc_run} --input {work}/adir", "--input",
           write("adir", None)),
    refuse("fc-input-unreadable", "path", "forecast {fc_run} --input {recent_csv}",
           "recent.csv", lambda ctx: unreadable(ctx["recent_csv"].name)(ctx)),
    refuse("fc-out-missing-folder", "path",
           "forecast {fc_run} --input {recent_csv} --out {work}/nodir/f.csv", "--out"),
    refuse("fc-out-is-input", "path", "forecast {fc_run} --input {recent_csv} --out "
           "{recent_csv}", "--out"),
    refuse("fc-out-is-input-symlink", "path", "forecast {fc_run} --input {recent_csv} "
           "--out {work}/link.csv", "--out",
           lambda ctx: (ctx.work / "link.csv").symlink_to(ctx["recent_csv"])),
    refuse("embed-out-missing-folder", "path", "embed {lm_toml} --out {work}/nodir/v.txt",
           "--out"),
    refuse("embed-out-read-only", "path", "embed {lm_toml} --out {work}/locked/v.txt",
           "--out", read_only("locked")),
    refuse("embed-out-is-corpus", "path", "embed {lm_toml} --out {work}/lm/train.txt", "--out"),
    refuse("diag-out-file", "path", "diagnose {lm_run} --out {work}/afile", "--out",
           write("afile", "x")),
    refuse("nb-vectors-missing", "path", "neighbors {work}/nowhere.txt cat", "nowhere.txt"),

    # --- pipelines: keys and values, per task -------------------------------------------
    refuse("lm-units-1e9", "pipeline", FIT + " --set model.units=1000000000", "model.units"),
    refuse("lm-units-0", "pipeline", FIT + " --set model.units=0", "model.units"),
    refuse("lm-units-text", "pipeline", FIT + " --set model.units=four", "model.units"),
    refuse("lm-embedding-dim-1e11", "pipeline", FIT + " --set model.embedding_dim=100000000000",
           "model.embedding_dim"),
    refuse("lm-dropout-1.5", "pipeline", FIT + " --set model.dropout=1.5", "model.dropout"),
    refuse("lm-cell-unknown", "pipeline", FIT + " --set model.cell=transformer", "model.cell"),
    refuse("lm-cutoffs-beyond-vocab", "pipeline", FIT + " --set model.head=adaptive "
           "--set model.cutoffs=[100000]", "model.cutoffs"),
    refuse("lm-batch-1e6", "pipeline", FIT + " --set train.batch_size=1000000",
           "train.batch_size"),
    refuse("lm-batch-over-tokens", "pipeline", FIT + " --set train.batch_size=500",
           "train.batch_size"),
    refuse("lm-epochs-1e20", "pipeline", FIT + " --set train.epochs=99999999999999999999",
           "train.epochs"),
    refuse("lm-bptt-1e6", "pipeline", FIT + " --set train.bptt=1000000", "train.bptt"),
    refuse("lm-lr-nan", "pipeline", FIT + " --set train.learning_rate=nan",
           "train.learning_rate"),
    refuse("lm-lr-neg", "pipeline", FIT + " --set train.learning_rate=-0.1",
           "train.learning_rate"),
    refuse("lm-min-frequency-1e9", "pipeline", FIT + " --set text.min_frequency=1000000000",
           "text.min_frequency"),
    refuse("lm-max-size-0", "pipeline", FIT + " --set text.max_size=0", "text.max_size"),
    refuse("lm-name-escapes", "pipeline", "fit {lm_toml} --set name=../escaped", "name"),
    refuse("lm-name-nested", "pipeline", "fit {lm_toml} --set name=exp/v2", "name"),
    refuse("lm-name-long", "pipeline", f"fit {{lm_toml}} --set name={LONG}", "name"),
    refuse("lm-task-unknown", "pipeline", FIT_P, "task", pipeline("lm", {"task": "tagging"})),
    refuse("lm-unknown-key", "pipeline", FIT + " --set model.unitz=4", "model.unitz"),
    refuse("lm-toml-unknown-key", "pipeline", FIT_P, "epocs",
           pipeline("lm", {"train.epocs": 1})),
    refuse("lm-toml-unknown-section", "pipeline", FIT_P, "trian",
           pipeline("lm", {"trian.epochs": 1})),
    refuse("lm-toml-wrong-type", "pipeline", FIT_P, "model.units",
           pipeline("lm", {"model.units": "four"})),
    refuse("lm-toml-syntax", "pipeline", "fit {work}/broken.toml --run-dir {run_dir}",
           "broken.toml", write("broken.toml", "name = \"tiny\"\n[model\nunits = 4\n")),
    refuse("lm-train-file-missing", "pipeline", FIT_P, "nope.txt",
           pipeline("lm", {"data.train": ["nope.txt"]})),
    refuse("lm-embeddings-missing", "pipeline", FIT + " --set embeddings.file=nope.vec",
           "nope.vec"),
    refuse("lm-workers-bad-batch", "pipeline",
           FIT + " --local-workers 2 --set train.batch_size=3", "train.batch_size"),
    refuse("lm-resume-epochs-1e20", "pipeline",
           "fit --resume {lm_run} --set train.epochs=99999999999999999999", "train.epochs"),
    refuse("fc-horizon-0", "pipeline", "fit {fc_toml} --run-dir {run_dir} --set series.horizon=0",
           "series.horizon"),
    refuse("fc-lookback-1e5", "pipeline",
           "fit {fc_toml} --run-dir {run_dir} --set series.lookback=100000", "series.lookback"),
    refuse("fc-stride-0", "pipeline", "fit {fc_toml} --run-dir {run_dir} --set series.stride=0",
           "series.stride"),
    refuse("fc-valid-fraction-1.5", "pipeline",
           "fit {fc_toml} --run-dir {run_dir} --set series.valid_fraction=1.5",
           "series.valid_fraction"),
    refuse("fc-target-missing", "pipeline", FIT_P, "Nope",
           pipeline("fc", {"series.targets": ["Nope"]})),
    refuse("fc-time-column-missing", "pipeline", FIT_P, "when",
           pipeline("fc", {"series.time_column": "when"})),
    refuse("fc-csv-folder", "pipeline", FIT_P, "series.csv",
           setups(write("adir", None), pipeline("fc", {"series.csv": "{work}/adir"}))),
    refuse("fc-quantile-1.5", "pipeline", FIT_P, "model.quantiles",
           pipeline("fc", {"model.distribution": "quantile", "model.quantiles": [0.5, 1.5]})),
    refuse("fc-units-1e9", "pipeline", "fit {fc_toml} --run-dir {run_dir} "
           "--set model.units=1000000000", "model.units"),
    refuse("fc-unknown-key", "pipeline", "fit {fc_toml} --run-dir {run_dir} "
           "--set series.horizn=3", "series.horizn"),
    refuse("mt-file-missing", "pipeline", FIT_P, "nope.tsv",
           pipeline("mt", {"pairs.file": "nope.tsv"})),
    refuse("mt-valid-fraction-1", "pipeline", "fit {mt_toml} --run-dir {run_dir} "
           "--set pairs.valid_fraction=1.0", "pairs.valid_fraction"),
    refuse("mt-num-beams-0", "pipeline", "fit {mt_toml} --run-dir {run_dir} "
           "--set decode.num_beams=0", "decode.num_beams"),
    refuse("mt-max-tokens-1e9", "pipeline", "fit {mt_toml} --run-dir {run_dir} "
           "--set decode.max_tokens=1000000000", "decode.max_tokens"),
    refuse("mt-units-1e9", "pipeline", "fit {mt_toml} --run-dir {run_dir} "
           "--set model.units=1000000000", "model.units"),
    refuse("mt-name-escapes", "pipeline", "fit {mt_toml} --set name=../escaped", "name"),

    # --- damaged run folders, a run in use ---------------------------------------------
    refuse("run-no-vocab-generate", "run", GEN, "vocab.txt",
           damage("lm_run", "vocab.txt", "delete")),
    refuse("run-empty-vocab-generate", "run", GEN, "vocab.txt",
           damage("lm_run", "vocab.txt", "empty")),
    refuse("run-truncated-model-generate", "run", GEN, "model.keras",
           damage("lm_run", "model.keras", "truncate")),
    refuse("run-truncated-model-export", "run", "export {lm_run} --base {work}/exp",
           "model.keras", damage("lm_run", "model.keras", "truncate")),
    refuse("run-no-model-generate", "run", GEN, "fit --resume",
           damage("lm_run", "model.keras", "delete")),
    refuse("run-no-config-evaluate", "run", "evaluate {lm_run}", "config.toml",
           damage("lm_run", "config.toml", "delete")),
    refuse("run-bad-config-generate", "run", GEN, "config.toml",
           damage("lm_run", "config.toml", "garbage")),
    refuse("run-config-units-changed", "run", GEN, "model.keras",
           edit("lm_run", "config.toml", "units = 4", "units = 64")),
    refuse("run-no-checkpoints-resume", "run", "fit --resume {lm_run} --epochs 2", "checkpoint",
           damage("lm_run", "checkpoints", "delete")),
    refuse("run-locked-resume", "run", "fit --resume {lm_run} --epochs 3", "{lock_pid}",
           hold_lock("lm_run")),
    refuse("run-locked-evaluate", "run", "evaluate {lm_run}", "{lock_pid}", hold_lock("lm_run")),
    refuse("run-locked-generate", "run", GEN, "{lock_pid}", hold_lock("lm_run")),
    refuse("run-locked-export", "run", "export {lm_run} --base {work}/exp", "{lock_pid}",
           hold_lock("lm_run")),
    refuse("run-read-only-resume", "run", "fit --resume {lm_run} --epochs 2", "lm_run",
           lambda ctx: make_read_only(ctx, ctx["lm_run"], recursive=True)),
    refuse("run-read-only-during-training", "run", FIT + " --set train.epochs=4",
           "cannot be written", read_only_after_first_checkpoint(), code=1, keeps=("run",)),
    refuse("mt-run-no-source-vocab", "run", "translate {mt_run} --text 'red cat runs'",
           "source_vocab.txt", damage("mt_run", "source_vocab.txt", "delete")),
    refuse("fc-run-truncated-model", "run", "forecast {fc_run} --input {recent_csv}",
           "model.keras", damage("fc_run", "model.keras", "truncate")),
    refuse("fc-run-no-config", "run", "forecast {fc_run} --input {recent_csv}", "config.toml",
           damage("fc_run", "config.toml", "delete")),

    # --- data files -----------------------------------------------------------------------
    refuse("fc-csv-empty", "data", FIT_P, "monthly.csv", pipeline("fc", files={"monthly.csv": ""})),
    refuse("fc-csv-header-only", "data", FIT_P, "monthly.csv",
           pipeline("fc", {"series.frequency": "MS"},
                    files={"monthly.csv": lines(monthly_rows()[:1])})),
    refuse("fc-csv-header-only-no-frequency", "data", FIT_P, "monthly.csv",
           pipeline("fc", files={"monthly.csv": lines(monthly_rows()[:1])})),
    refuse("fc-csv-one-row", "data", FIT_P, "monthly.csv",
           pipeline("fc", files={"monthly.csv": lines(monthly_rows()[:2])})),
    refuse("fc-csv-month-missing", "data", FIT_P, "monthly.csv",
           pipeline("fc", files={"monthly.csv": lines(monthly_rows()[:15] +
                                                      monthly_rows()[16:])})),
    refuse("fc-csv-text-value", "data", FIT_P, "monthly.csv",
           pipeline("fc", files={"monthly.csv": lines(monthly_rows()[:20] + ['"1950-08",abc'] +
                                                      monthly_rows()[21:])})),
    refuse("fc-csv-duplicate-date", "data", FIT_P, "monthly.csv",
           pipeline("fc", files={"monthly.csv": lines(monthly_rows()[:21] +
                                                      monthly_rows()[20:])})),
    refuse("fc-input-empty", "data", "forecast {fc_run} --input {work}/empty.csv", "empty.csv",
           write("empty.csv", "")),
    refuse("fc-input-header-only", "data", "forecast {fc_run} --input {work}/head.csv",
           "head.csv", write("head.csv", lines(monthly_rows()[:1]))),
    refuse("fc-input-shorter-than-lookback", "data", "forecast {fc_run} --input {work}/short.csv",
           "lookback", write("short.csv", lines(monthly_rows()[:11]))),
    refuse("fc-input-wrong-column", "data", "forecast {fc_run} --input {work}/other.csv",
           "Passengers", write("other.csv", lines(["Month,Riders"] + monthly_rows()[1:41]))),
    refuse("fc-input-month-missing", "data", "forecast {fc_run} --input {work}/gap.csv",
           "gap.csv", write("gap.csv", lines(monthly_rows()[:20] + monthly_rows()[21:41]))),
    refuse("lm-corpus-empty", "data", FIT_P, "train.txt", pipeline("lm", files={"train.txt": ""})),
    refuse("lm-corpus-not-utf8", "data", FIT_P, "train.txt",
           pipeline("lm", files={"train.txt": "café olé\n".encode("latin-1") * 40})),
    refuse("mt-pairs-empty", "data", FIT_P, "pairs.tsv", pipeline("mt", files={"pairs.tsv": ""})),
    refuse("mt-pairs-no-tab", "data", FIT_P, "pairs.tsv",
           pipeline("mt", files={"pairs.tsv": "".join(f"{s} {t}\n" for s, t in PAIRS)})),
    refuse("vectors-nan-neighbors", "data", "neighbors {work}/nan.txt cat", "nan.txt",
           write("nan.txt", vectors_text(VECTORS[:3] + [("cat", [float("nan")] * 4)] +
                                         VECTORS[3:]))),
    refuse("vectors-wrong-width", "data", "neighbors {work}/narrow.txt cat", "narrow.txt",
           write("narrow.txt", vectors_text(VECTORS).replace("\ncat ", "\ncat 0.5 "))),
    refuse("vectors-nan-fit", "data", FIT + " --set embeddings.file={work}/nan.txt", "nan.txt",
           write("nan.txt", vectors_text(VECTORS[:3] + [("cat", [float("nan")] * 4)] +
                                         VECTORS[3:]))),
    refuse("vectors-inf-fit", "data", FIT + " --set embeddings.file={work}/inf.txt", "inf.txt",
           write("inf.txt", vectors_text(VECTORS[:3] + [("cat", [float("inf")] * 4)] +
                                         VECTORS[3:]))),

    # --- exports --------------------------------------------------------------------------
    refuse("export-version-is-file", "export", "export {lm_run} --base {work}/exp --version 2",
           "--version", write("exp/tiny/2", "not a version")),
    refuse("export-version-exists", "export", "export {lm_run} --base {exports} --version 1",
           "--version"),
    refuse("export-model-name-is-file", "export", "export {lm_run} --base {work}/exp",
           "tiny", write("exp/tiny", "a file where the model folder goes")),
    refuse("export-run-name-not-ascii", "export", "export {lm_run} --base {work}/exp", "--name",
           edit("lm_run", "config.toml", 'name = "tiny"', 'name = "猫の実験"')),
    accept("export-removes-dead-leftovers", "export", "export {lm_run} --base {exports}",
           dead_export_leftover, check=no_export_leftovers),
    accept("export-translation-run", "export", "export {mt_run} --base {work}/exp",
           check=exists("exp/tiny_mt/1")),
    accept("export-forecast-run", "export", "export {fc_run} --base {work}/exp",
           check=exists("exp/air/1")),

    # --- serve ------------------------------------------------------------------------------
    accept("serve-exports", "serve", "serve --base {exports} --port {free_port}"),
    accept("serve-ignores-dead-leftovers", "serve", "serve --base {exports} --port {free_port}",
           dead_export_leftover),
    refuse("serve-port-busy", "serve", "serve --base {exports} --port {busy_port}", "--port",
           busy_port),
    refuse("serve-port-70000", "serve", "serve --base {exports} --port 70000", "--port"),
    refuse("serve-host-bad", "serve", "serve --base {exports} --host 999.1.1.1 --port 0",
           "--host"),
    refuse("serve-base-missing", "serve", "serve --base {work}/nowhere --port 0", "--base"),
    refuse("serve-base-empty", "serve", "serve --base {work}/adir --port 0", "--base",
           write("adir", None)),
    refuse("serve-export-damaged", "serve", "serve --base {exports} --port 0", "tiny",
           lambda ctx: (ctx["exports"] / "tiny" / "1" / "saved_model.pb").write_bytes(b"xx")),

    # --- odd but valid ----------------------------------------------------------------------
    accept("gen-japanese-prompt", "valid", "generate {lm_run} --prompt '東京 で' --max-tokens 3"),
    accept("gen-unknown-words", "valid", "generate {lm_run} --prompt 'zyx qwv' --max-tokens 3"),
    accept("gen-max-tokens-1", "valid", GEN + " --max-tokens 1"),
    accept("tr-unknown-words", "valid", "translate {mt_run} --text 'purple unicorn flies'"),
    accept("tr-japanese", "valid", "translate {mt_run} --text '猫 が 寝た'"),
    accept("eval-train-split-batch-1", "valid", "evaluate {lm_run} --split train --batch-size 1"),
    accept("nb-japanese-word", "valid", "neighbors {lm_run} 猫 --k 2"),
    accept("fc-out-new-file", "valid", "forecast {fc_run} --input {recent_csv} --out "
           "{work}/f.csv", check=exists("f.csv")),
    accept("fit-print-config", "valid", "fit {lm_toml} --print-config", check=nothing_written),
    accept("fit-unicode-run-dir", "valid", "fit {lm_toml} --run-dir '{work}/実験 run'",
           check=exists("実験 run/model.keras")),
    accept("fit-stale-lock-resume", "valid", "fit --resume {lm_run} --epochs 2",
           stale_lock("lm_run"), check=says("no longer running")),
    accept("list", "valid", "list"),
    accept("diag-run", "valid", "diagnose {lm_run} --steps 3 --batch 2 --train-steps 1 "
           "--out {work}/diag", check=exists("diag")),
    accept("embed-pipeline", "valid", "embed {lm_toml} --out {work}/v.txt", check=exists("v.txt")),
]


# --- running and judging one case ------------------------------------------------------
def listing(folder):
    """{relative path: (size, mtime_ns)} of every file under ``folder`` (hidden ones too),
    and {path: "dir"} for folders (their mtimes change with passing temporary files)."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            stat = os.lstat(path)
            rel = os.path.relpath(path, folder)
            found[rel] = "dir" if name in dirs and not os.path.islink(path) else (
                stat.st_size, stat.st_mtime_ns)
    return found


def changes(before, after, keeps=()):
    def kept(path):
        return any(path == k or path.startswith(k + os.sep) for k in keeps)

    added = [f"+{p}" for p in after if p not in before and not kept(p)]
    removed = [f"-{p}" for p in before if p not in after and not kept(p)]
    changed = [f"~{p}" for p in after if p in before and after[p] != before[p] and not kept(p)]
    return sorted(added) + sorted(removed) + sorted(changed)


@dataclasses.dataclass
class Outcome:
    exit_code: Optional[int] = None
    output: str = ""
    timed_out: bool = False
    served: bool = False  # serve: it said it was serving
    probe: Optional[str] = None  # serve: the HTTP status of the probe, or the error
    changes: list = dataclasses.field(default_factory=list)
    problem: Optional[str] = None  # accept: what its check found


def stop_group(process):
    """Kills the process group this script started for one case (its workers too)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def run_command(command, ctx, env, timeout):
    process = subprocess.Popen(command, cwd=ctx.work, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace",
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    try:  # the case's process group: workers it started, or all of it at the timeout
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if timed_out:
        output, _ = process.communicate()
    return Outcome(None if timed_out else process.returncode, output, timed_out=timed_out)


def run_serve(command, ctx, env, case):
    """Starts serve; it must exit (refusing) or say it serves within SERVE_WAIT seconds. A
    server is probed once at ``case.probe``, then stopped with Ctrl-C (SIGINT)."""
    process = subprocess.Popen(command, cwd=ctx.work, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace",
                               start_new_session=True)
    seen, serving = [], threading.Event()

    def read():
        for line in process.stdout:
            seen.append(line)
            if line.startswith("Serving "):
                serving.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.time() + SERVE_WAIT
    while time.time() < deadline and process.poll() is None and not serving.is_set():
        time.sleep(0.1)
    outcome = Outcome()
    if serving.is_set():
        outcome.served = True
        said = next(line for line in seen if line.startswith("Serving "))
        port = said.split("http://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[-1]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{case.probe}", timeout=10) as r:
                outcome.probe = str(r.status)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            outcome.probe = f"{type(exc).__name__}: {exc}"
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop_group(process)
    elif process.poll() is None:
        outcome.timed_out = True
        stop_group(process)
    else:
        stop_group(process)  # reaps it; any child it left goes too
    reader.join(timeout=5)
    outcome.exit_code, outcome.output = process.returncode, "".join(seen)
    return outcome


def classify(case, outcome, ctx):
    """(verdict, {fault: why}): the first fault in VERDICTS' order, else GOOD."""
    faults = {}
    lines_out = outcome.output.strip().splitlines()
    code = outcome.exit_code
    if outcome.timed_out:
        faults["HANG"] = "still running at the timeout"
    crashed = code is not None and (code < 0 or code not in (0, 1, 2)) and not outcome.served
    marks = [mark for mark in CRASH_MARKS if mark in outcome.output]
    if crashed or marks:
        faults["TRACEBACK"] = f"exit {code}" + (f", {marks[0]!r}" if marks else "")
    if case.expect == "accept":
        if case.argv[0] == "serve" and outcome.probe != "200":
            faults["WRONG"] = f"the probe of {case.probe} got {outcome.probe}"
        elif case.argv[0] != "serve" and not outcome.timed_out and code != 0:
            faults["WRONG"] = f"exit {code}"
        elif outcome.problem:
            faults["WRONG"] = outcome.problem
        return next(iter(sorted(faults, key=VERDICTS.index)), "GOOD"), faults
    if outcome.timed_out:
        return "HANG", faults
    if code == 0 or outcome.served:
        faults["SILENT"] = "it served" if outcome.served else "exit 0"
    if outcome.changes:
        faults["LEFTOVER"] = ", ".join(outcome.changes[:5])
    if code != 0 and len(lines_out) > 1 and case.code == 2:  # code 1: after progress lines
        faults["MULTILINE"] = f"{len(lines_out)} lines"
    fragment = case.fragment.format_map(ctx)
    if code != 0 and not outcome.served:
        last = lines_out[-1] if lines_out else ""
        if code != case.code:
            faults["MISLEADING"] = f"exit {code}, declared {case.code}"
        elif not last.startswith("Error: "):
            faults["MISLEADING"] = "the last line is not an Error: line"
        elif fragment not in last:
            faults["MISLEADING"] = f"the Error line lacks {fragment!r}"
    return next(iter(sorted(faults, key=VERDICTS.index)), "GOOD"), faults


def run_case(case, fixtures, entry, env, scratch):
    work = Path(tempfile.mkdtemp(prefix=f"{case.id}-", dir=scratch))
    ctx = Context(work, fixtures)
    started = time.time()
    record = {"id": case.id, "kind": case.kind, "expect": case.expect}
    try:
        if case.setup:
            case.setup(ctx)
        argv = [word.format_map(ctx) for word in case.argv]
        record["argv"] = argv
        command = [*ctx.prefix, entry, *argv]
        before = listing(work)
        started = time.time()
        if case.argv[0] == "serve":
            outcome = run_serve(command, ctx, env, case)
        else:
            outcome = run_command(command, ctx, env, case.timeout)
        seconds = time.time() - started
        for cleanup in ctx.cleanups:  # the work folder writable again before listing it
            cleanup()
        ctx.cleanups = []
        if case.expect == "refuse":
            outcome.changes = changes(before, listing(work), case.keeps)
        elif case.check and outcome.exit_code == 0:
            outcome.problem = case.check(ctx, outcome.output)
        verdict, faults = classify(case, outcome, ctx)
    except Exception as exc:  # noqa: BLE001  (a fixture or setup that failed: not measured)
        text = f"{type(exc).__name__}: {exc}"
        return {**record, "verdict": "UNRUN", "faults": {}, "seconds": 0.0,
                "first_line": text.splitlines()[0], "output": text}
    finally:
        for cleanup in ctx.cleanups:
            cleanup()
        shutil.rmtree(work, ignore_errors=True)
    first = next((line for line in outcome.output.splitlines() if line.strip()), "")
    return {**record, "verdict": verdict, "faults": faults, "exit_code": outcome.exit_code,
            "seconds": round(seconds, 2), "fragment": case.fragment.format_map(ctx),
            "first_line": first, "output": outcome.output[-4000:],
            "output_lines": len(outcome.output.strip().splitlines()),
            "changes": outcome.changes[:30], "probe": outcome.probe, "problem": outcome.problem}


def select(args):
    ids = [case.id for case in CASES]
    duplicated = [i for i, n in collections.Counter(ids).items() if n > 1]
    assert not duplicated, f"case ids used twice: {duplicated}"
    chosen = CASES
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - set(ids))
        if unknown:
            sys.exit(f"unknown case ids: {', '.join(unknown)} (see --list)")
        chosen = [case for case in chosen if case.id in wanted]
    if args.kind:
        chosen = [case for case in chosen if case.kind == args.kind]
    return chosen[: args.limit] if args.limit else chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated case ids")
    parser.add_argument("--kind", choices=sorted(KINDS), help="only the cases of one kind")
    parser.add_argument("--limit", type=int, help="only the first N selected cases")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--timeout", type=float, help=f"seconds per case (default {TIMEOUT:.0f})")
    args = parser.parse_args()
    chosen = select(args)
    if args.timeout:
        chosen = [dataclasses.replace(case, timeout=args.timeout) for case in chosen]
    if args.list:
        for case in chosen:
            print(f"{case.id:36} {case.kind:8} {case.expect:6} "
                  f"rnn-pipeline {shlex.join(case.argv)}")
        counts = collections.Counter(case.kind for case in chosen)
        print(f"{len(chosen)} cases: " + ", ".join(f"{k} {counts[k]}" for k in KINDS if counts[k]))
        return
    entry = shutil.which("rnn-pipeline")
    if entry is None:
        sys.exit("the rnn-pipeline entry point is not installed (pip install -e .)")
    env = dict(os.environ)
    env.setdefault("RNN_PIPELINE_DATA_MIRROR", str(Path(__file__).resolve().parents[2] /
                                                   "shared" / "data"))
    env.setdefault("MPLBACKEND", "Agg")
    results, began = [], time.time()
    with tempfile.TemporaryDirectory(prefix="input-sweep-") as root:
        fixtures = Fixtures(Path(root) / "fixtures", entry, env)
        fixtures.root.mkdir()
        scratch = Path(root) / "cases"
        scratch.mkdir()
        print(f"{len(chosen)} cases; fixtures in {fixtures.root}", flush=True)
        for case in chosen:
            result = run_case(case, fixtures, entry, env, scratch)
            results.append(result)
            print(f"{result['id']:36} {result['kind']:8} {result['verdict']:10} "
                  f"{result['first_line'][:100]!s:100} {result['seconds']:6.1f}s", flush=True)
    counts = collections.Counter(r["verdict"] for r in results)
    by_kind = collections.defaultdict(collections.Counter)
    for r in results:
        by_kind[r["kind"]][r["verdict"]] += 1
    when = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    print(f"\n{len(results)} cases on {cpu_name()} ({os.cpu_count()} CPUs), {when}, "
          f"{(time.time() - began) / 60:.1f} min")
    print("  ".join(f"{v} {counts[v]}" for v in [*VERDICTS, "UNRUN"] if counts[v]))
    for kind in KINDS:
        if by_kind[kind]:
            print(f"  {kind:8} " + "  ".join(f"{v} {n}" for v, n in sorted(
                by_kind[kind].items(), key=lambda item: VERDICTS.index(item[0])
                if item[0] in VERDICTS else 99)))
    if args.json:
        args.json.write_text(json.dumps({
            "cpu": cpu_name(), "cpus": os.cpu_count(), "date": when,
            "python": platform.python_version(), "command": shlex.join(sys.argv),
            "counts": dict(counts), "results": results}, ensure_ascii=False, indent=1))
        print(f"results: {args.json}")


if __name__ == "__main__":
    main()
