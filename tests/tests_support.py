"""Helpers shared by tests: independent reference computations."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rnn_pipeline.config import ModelConfig
from rnn_pipeline.datasets import DATASETS, fetch_file
from rnn_pipeline.datasets.fetch import MIRROR_ENV
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.data.preprocessor import TextPreprocessor
from rnn_pipeline.models import RNNBackbone
from rnn_pipeline.tasks.causal_lm.model import CausalLM, build_causal_lm

# Twenty sentence pairs: the target is the source's words upper-cased, last word first.
PAIRS = [(f"{a} {b} {c}", f"{c.upper()} {a.upper()} {b.upper()}") for a, b, c in [
    ("red", "cat", "runs"), ("blue", "dog", "sleeps"), ("green", "bird", "sings"),
    ("red", "dog", "eats"), ("blue", "cat", "jumps"), ("small", "fish", "swims"),
    ("big", "cow", "walks"), ("old", "horse", "rests"), ("young", "goat", "climbs"),
    ("red", "bird", "flies"), ("green", "frog", "hops"), ("white", "bear", "hunts"),
    ("black", "wolf", "howls"), ("brown", "owl", "watches"), ("grey", "seal", "dives"),
    ("pink", "pig", "digs"), ("tall", "deer", "runs"), ("slow", "snail", "crawls"),
    ("quick", "fox", "jumps"), ("lazy", "cat", "sleeps")]]

REQUIRE_DATA_ENV = "RNN_PIPELINE_REQUIRE_DATA"


def unavailable(reason):
    """Skips the calling test for missing real data; with ``RNN_PIPELINE_REQUIRE_DATA=1``
    (CI) fails it instead, so that no data test is ever skipped silently there."""
    if os.environ.get(REQUIRE_DATA_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_DATA_ENV}=1 turns this skip into a failure)",
                    pytrace=False)
    pytest.skip(reason)


def dataset_paths(name):
    """Local paths {role: Path} of registry dataset ``name``, resolved as a user's run
    resolves them (cache, then mirror, then download); `unavailable` when that fails."""
    try:
        return {role: fetch_file(file, progress=False)
                for role, file in DATASETS.get(name).files.items()}
    except PipelineError:
        unavailable(f"needs dataset {name!r}: not in the cache, not in a {MIRROR_ENV} "
                    f"folder, and the download failed (offline?)")


TINY_VOCAB = ["<unk>", "<eos>", "the", "cat", "sat", "on", "mat", "a", "dog", "ran"]


def tiny_lm(cell="lstm", tie=False, layers=2, seed=1, cutoffs=()):
    """A ``layers`` x 4 causal LM over `TINY_VOCAB` with random (seeded) weights, large
    enough that every choice of sampler makes a difference; with ``cutoffs``, its head is
    an adaptive softmax."""
    preprocessor = TextPreprocessor({"name": "whitespace"}, TINY_VOCAB)
    head = {"head": "adaptive", "cutoffs": list(cutoffs), "div_value": 2.0} if cutoffs else {}
    model = build_causal_lm(ModelConfig(cell=cell, embedding_dim=4, units=4, num_layers=layers,
                                        tie_weights=tie, **head),
                            len(TINY_VOCAB), batch_size=2, preprocessor=preprocessor)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 1.5, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def full_forward_logits(model, ids):
    """Logits after the last of ``ids``, by running the whole sequence through a stateless
    copy of ``model`` (Keras layers over the full sequence, not the stepper)."""
    if not hasattr(model, "_stateless_clone"):
        config = {**model.backbone.get_config(), "stateful": False, "batch_size": None}
        clone = CausalLM(RNNBackbone.from_config(config), **model.task_config)
        clone.set_weights(model.get_weights())
        model._stateless_clone = clone
    return model._stateless_clone(np.array([ids], np.int32), training=False).numpy()[0, -1]


# A model server's process: TensorFlow and tensorflow-text only, never rnn_pipeline. It
# answers one JSON request per stdin line with one JSON line on its real stdout (whatever
# else is printed goes to stderr): {"export_dir", "requests", "cli"} loads that export and
# runs its signatures; "ops" gives the ops TensorFlow registers (core) and the ones that
# importing tensorflow-text adds (text), read before and after that import.
EXPORT_SERVER = textwrap.dedent("""
    import contextlib, io, json, sys, traceback
    import tensorflow as tf
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session

    def registered_ops():
        buffer = pywrap_tf_session.TF_GetAllOpList()
        try:
            ops = op_def_pb2.OpList.FromString(pywrap_tf_session.TF_GetBuffer(buffer)).op
        finally:
            pywrap_tf_session.TF_DeleteBuffer(buffer)
        return {op.name for op in ops}

    core = registered_ops()
    import tensorflow_text  # noqa: F401  (the model server links these ops in)
    text_ops = registered_ops() - core
    answers, sys.stdout = sys.stdout, sys.stderr

    def serve(export_dir, requests, cli):
        out = {}
        if cli:  # first, before this export is loaded: TF Serving's Session-based loader
            from tensorflow.python.tools import saved_model_cli
            sys.argv = ["saved_model_cli", "run", "--dir", export_dir, "--tag_set", "serve",
                        "--signature_def", cli[0], "--input_exprs", cli[1]]
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                try:
                    saved_model_cli.main()
                except SystemExit as exc:  # absl's app.run exits when it is done
                    if exc.code:
                        raise
            out["saved_model_cli"] = printed.getvalue()
        loaded = tf.saved_model.load(export_dir)
        out["modules"] = sorted(m for m in sys.modules if m.startswith("rnn_pipeline"))
        for name, inputs in requests.items():
            fn = loaded.signatures[name]
            result = fn(**{k: tf.constant(v, fn.structured_input_signature[1][k].dtype)
                           for k, v in inputs.items()})
            out[name] = {k: v.numpy().tolist() for k, v in result.items()}
        return out

    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request == "ops":
                out = {"core": sorted(core), "text": sorted(text_ops)}
            else:
                out = serve(**request)
        except BaseException:
            out = {"error": traceback.format_exc()}
        answers.write(json.dumps(out, default=lambda b: b.decode("utf-8")) + "\\n")
        answers.flush()
""")

_export_server = None


def _stop(process):
    """Ends `EXPORT_SERVER` at the end of the session: stdin closed, it exits by itself."""
    process.stdin.close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _ask_export_server(request, timeout=180):
    """The answer of this test process's `EXPORT_SERVER` (started on first use, once per
    pytest worker: one TensorFlow import for every export it serves) to ``request``."""
    import atexit
    import select
    import tempfile

    global _export_server
    if _export_server is None or _export_server.poll() is not None:
        log = tempfile.TemporaryFile("w+")  # a file: a full stderr pipe would block it
        _export_server = subprocess.Popen([sys.executable, "-c", EXPORT_SERVER],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=log, text=True)
        _export_server.log = log
        atexit.register(_stop, _export_server)
    server = _export_server

    def log_tail():
        server.log.seek(0)
        return server.log.read()[-2000:]

    server.stdin.write(json.dumps(request) + "\n")
    server.stdin.flush()
    if not select.select([server.stdout], [], [], timeout)[0]:
        server.kill()
        raise AssertionError(f"no answer in {timeout} s to {request}: {log_tail()}")
    line = server.stdout.readline()
    assert line, f"the export server stopped: {log_tail()}"
    out = json.loads(line)
    assert "error" not in out, out.get("error")
    return out


def tf_only_process(export_dir, requests, cli=None):
    """Runs signatures of an export in a separate Python that has TensorFlow and
    tensorflow-text only, as a model server has, and has never imported rnn_pipeline: one
    per pytest worker, which (as TF Serving does) serves every export asked of it.

    Args:
        export_dir: the version folder.
        requests: {signature: {input: value}}.
        cli: optional (signature, input expression): first, before the export is loaded,
            run by ``saved_model_cli run`` (TF Serving's Session loader) in that process;
            its stdout is ``out["saved_model_cli"]``.

    Returns:
        {signature: {output: value}, "modules": rnn_pipeline modules imported}.
    """
    return _ask_export_server({"export_dir": str(export_dir), "requests": requests,
                               "cli": cli})


def tensorflow_and_text_ops():
    """(ops TensorFlow registers, ops that importing tensorflow-text adds), as sets, read in
    `tf_only_process`'s process before and after it imports tensorflow-text."""
    out = _ask_export_server("ops")
    return set(out["core"]), set(out["text"])


SEPARATOR = "\n=====8<===== next command =====8<=====\n"

# Runs each listed command with the installed console script's function (as the
# ``rnn-pipeline`` entry point does), in order, in this one fresh process; a separator
# after each command on stdout and stderr (fd 2 itself, where TensorFlow's C++ logs go);
# the exit statuses, as JSON, last on stdout.
ENTRY_DRIVER = f"""
import json, os, sys
from importlib.metadata import entry_points
(entry,) = entry_points(group="console_scripts", name="rnn-pipeline")
main = entry.load()
codes = {{}}
for name, args in json.loads(sys.argv[1]).items():
    try:
        main(args, prog_name="rnn-pipeline")
        codes[name] = 0
    except SystemExit as stop:
        codes[name] = stop.code if isinstance(stop.code, int) else (stop.code is not None)
    sys.stdout.write({SEPARATOR!r})
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(2, {SEPARATOR!r}.encode())
print(json.dumps(codes))
"""


def installed_commands(commands, cwd, timeout=600):
    """Runs ``rnn-pipeline`` commands one after the other in one fresh process, each with
    the installed console script's function, as the entry point runs it: one TensorFlow
    import for all of them.

    Args:
        commands: {name: [argument, ...]}, run in this order.
        cwd: the process's working folder.

    Returns:
        {name: (exit status, stdout, stderr)}.
    """
    import shutil

    assert shutil.which("rnn-pipeline"), "the rnn-pipeline entry point is not installed"
    listed = {name: [str(a) for a in args] for name, args in commands.items()}
    done = subprocess.run([sys.executable, "-c", ENTRY_DRIVER, json.dumps(listed)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    outs, errs = done.stdout.split(SEPARATOR), done.stderr.split(SEPARATOR)
    assert len(outs) == len(errs) == len(listed) + 1, (done.stdout + done.stderr)[-3000:]
    codes = json.loads(outs[-1])
    return {name: (code, out, err) for (name, code), out, err in zip(codes.items(), outs, errs)}


def assert_round_trips(model, inputs, folder, rtol=1e-5):
    """``model`` rebuilt from its config (same weights) and saved to and loaded from a
    ``.keras`` file gives its outputs on ``inputs``; returns the loaded model."""
    import keras

    expected = model(inputs).numpy()
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(inputs).numpy(), expected, rtol=rtol)
    model.compile()
    model.save(folder / "m.keras")
    loaded = keras.models.load_model(folder / "m.keras")
    np.testing.assert_allclose(loaded(inputs).numpy(), expected, rtol=rtol)
    return loaded


def export_run(run, folder):
    """``rnn-pipeline export RUN --base folder/saved_models`` (must succeed); returns the
    version folder it wrote, ``saved_models/<name>/1``."""
    from click.testing import CliRunner

    from rnn_pipeline.cli.main import cli

    base = folder / "saved_models"
    done = CliRunner().invoke(cli, ["export", str(run), "--base", str(base)])
    assert done.exit_code == 0, done.output
    (name,) = [path.name for path in base.iterdir() if path.is_dir()]
    return base / name / "1"


def files_under(folder):
    """Every path under ``folder`` (relative, sorted): compare before and after a command
    to check that it wrote nothing."""
    from pathlib import Path

    folder = Path(folder)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def assert_one_line_error(result, expected, code=2, absent=()):
    """The answer promised for a user's mistake (the bad-input suite, ``test_bad_input*``):
    exit ``code``, and the whole output one ``Error: ...`` line that contains ``expected``;
    no path of ``absent`` exists (nothing half-written).

    Args:
        result: a click `Result` (CliRunner) or a `subprocess.CompletedProcess` (text).
        expected: text the line must contain.
        code: the exit code (2: a user's mistake; 1: a fault during training).
        absent: paths that must not exist afterwards.
    """
    if hasattr(result, "exit_code"):
        output, exit_code = result.output, result.exit_code
    else:
        output, exit_code = result.stdout + result.stderr, result.returncode
    lines = output.strip().splitlines()
    assert exit_code == code, output
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert expected in lines[0], lines[0]
    left = [str(p) for p in absent if os.path.exists(p)]
    assert left == [], f"left behind: {left}"
