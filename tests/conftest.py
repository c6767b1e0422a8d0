"""Shared fixtures: tiny corpora and pipelines written by the tests themselves."""

import fcntl
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

import rnn_pipeline  # noqa: F401  (forces the TensorFlow backend before keras is used)
from rnn_pipeline.tasks.causal_lm.config import LanguageModelConfig
from rnn_pipeline.config.loader import from_dict
from rnn_pipeline.datasets.fetch import MIRROR_ENV
from tests_support import dataset_paths, unavailable

REPO = Path(__file__).resolve().parents[1]
_SHARED = REPO.parent / "shared" / "data"
if _SHARED.is_dir():  # a checkout beside shared/ (CI, development) uses it as the mirror
    os.environ.setdefault(MIRROR_ENV, str(_SHARED))

TINY_TEXT = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog met on the mat",
    "東京 で 猫 が 寝た",
    "the bird sat on the cat",
    "猫 と 犬 が 会った",
    "the mat was red and the log was brown",
    "a dog ran to the log",
]


@pytest.fixture(scope="session")
def data_mirror():
    """The mirror folder itself, for tests of the mirror or of files only it holds (the
    UTF-8 copies, SHA256SUMS). Skips without one; fails under RNN_PIPELINE_REQUIRE_DATA=1."""
    value = os.environ.get(MIRROR_ENV)
    if not value or not Path(value).is_dir():
        unavailable(f"needs the data mirror: set {MIRROR_ENV} to a folder laid out like "
                    f"shared/data (now: {value or 'unset'})")
    return Path(value)


@pytest.fixture(scope="session")
def dataset():
    """``dataset(name)``: local paths {role: Path} of a registry dataset, resolved as a
    user's run resolves them (cache, mirror, download); skips when it cannot be had."""
    return dataset_paths


# A tiny language-model pipeline over the files of `write_tiny_corpus`.
TINY_PIPELINE = """
name = "tiny"
[data]
corpus = "files"
train = ["{train}"]
valid = ["{valid}"]
test = ["{test}"]
[model]
embedding_dim = 4
units = 4
num_layers = 1
[train]
epochs = 1
batch_size = 2
bptt = 4
"""


def write_tiny_corpus(folder):
    """train/valid/test files of a tiny mixed English/Japanese corpus in ``folder``."""
    files = {}
    for split, repeat in (("train", 3), ("valid", 1), ("test", 1)):
        path = folder / f"{split}.txt"
        path.write_text("\n".join(TINY_TEXT * repeat) + "\n", encoding="utf-8")
        files[split] = path.as_posix()
    return files


@pytest.fixture
def tiny_corpus(tmp_path):
    return write_tiny_corpus(tmp_path)


def shared_fit(tmp_path_factory, name, fit):
    """``fit(folder)`` once for the whole test session, whichever pytest-xdist worker asks
    first (under a file lock); the others wait and read the same folder.

    Args:
        name: the shared folder's name.
        fit: folder -> (a click result, the run folder).

    Returns:
        (a result with the fit's ``output`` and ``exit_code``, the run folder).
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the session's folder, shared by its workers
    folder, record = base / f"shared-{name}", base / f"shared-{name}.json"
    with open(base / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            result, run = fit(folder)
            assert result.exit_code == 0, result.output
            record.write_text(json.dumps({"output": result.output, "run": str(run)}))
    fitted = json.loads(record.read_text())
    return SimpleNamespace(output=fitted["output"], exit_code=0), Path(fitted["run"])


def _fit_tiny_lm(folder):
    from click.testing import CliRunner

    from rnn_pipeline.cli.main import cli

    pipeline = folder / "tiny.toml"
    pipeline.write_text(TINY_PIPELINE.format(**write_tiny_corpus(folder)))
    run = folder / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run


@pytest.fixture(scope="session")
def fitted_lm_run(tmp_path_factory):
    """A run folder of `TINY_PIPELINE`, fitted once through the CLI; tests only read it
    (copy it to change it)."""
    return shared_fit(tmp_path_factory, "fitted_lm", _fit_tiny_lm)[1]


def _export_tiny_lm(folder, run):
    import os

    from click.testing import CliRunner

    from rnn_pipeline.cli.main import cli

    base = folder / "saved_models"
    old = os.umask(0o022)  # test_export checks that the version folder gets the umask's mode
    try:
        return CliRunner().invoke(cli, ["export", str(run), "--base", str(base)]), base
    finally:
        os.umask(old)


@pytest.fixture(scope="session")
def exported_lm_run(tmp_path_factory, fitted_lm_run):
    """The export base of `fitted_lm_run` (model "tiny", version 1), exported once per
    session through the CLI under umask 0o022; tests only read it."""
    return shared_fit(tmp_path_factory, "exported_lm",
                      lambda folder: _export_tiny_lm(folder, fitted_lm_run))[1]


@pytest.fixture(scope="session")
def fitted_translation(tmp_path_factory):
    """(result, run folder) of test_translation_workflow's tiny pipeline, fitted once per
    session; tests only read it."""
    from test_translation_workflow import _fit

    return shared_fit(tmp_path_factory, "translation", _fit)


@pytest.fixture(scope="session")
def fitted_tagging(tmp_path_factory):
    """(result, run folder) of test_tagging_workflow's tiny NER pipeline with the CRF head,
    fitted once per session; tests only read it."""
    from test_tagging_workflow import _fit

    return shared_fit(tmp_path_factory, "tagging", lambda folder: _fit(folder, head="crf"))


@pytest.fixture(scope="session")
def fitted_speech(tmp_path_factory, dataset):
    """(result, run folder) of test_speech_workflow's tiny classify pipeline (FSDD, two
    digits of two speakers), fitted once per session; tests only read it."""
    from test_speech_workflow import _fit

    return shared_fit(tmp_path_factory, "speech", lambda folder: _fit(folder, dataset)[:2])


@pytest.fixture(scope="session")
def fitted_forecast(tmp_path_factory):
    """(result, run folder) of test_forecast_workflow's tiny pipeline, fitted once per
    session; tests only read it."""
    from test_forecast_workflow import _fit

    return shared_fit(tmp_path_factory, "forecast", _fit)


@pytest.fixture(scope="session")
def fitted_student_t(tmp_path_factory):
    """(result, run folder) of test_forecast_distributions' Student-t forecast pipeline,
    fitted once per session; tests only read it."""
    from test_forecast_distributions import _fit_student_t

    return shared_fit(tmp_path_factory, "student_t", _fit_student_t)


def tiny_config(files, **sections):
    """A `LanguageModelConfig` for a tiny, fast model on ``files``; ``sections`` override keys,
    e.g. model={"cell": "gru"}."""
    data = {
        "name": "tiny",
        "data": {"corpus": "files", "train": [files["train"]], "valid": [files["valid"]],
                 "test": [files["test"]]},
        "text": {"tokenizer": "whitespace", "sentencepiece_vocab_size": 40},
        "model": {"cell": "lstm", "embedding_dim": 4, "units": 4, "num_layers": 1},
        "train": {"epochs": 1, "batch_size": 2, "bptt": 5, "optimizer": "adam",
                  "learning_rate": 0.01},
    }
    for section, values in sections.items():
        data.setdefault(section, {}).update(values)
    return from_dict(LanguageModelConfig, data)
