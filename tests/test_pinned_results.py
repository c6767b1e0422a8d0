"""Pinned figures of one tiny seeded run per task (and per forecast head), recorded before
the tasks moved onto one builder and one fit path: a refactor that changes what is built
or how it is trained moves one of them and fails here."""

import math

import pytest

from conftest import tiny_config
from rnn_pipeline.config.loader import loads
from rnn_pipeline.runs import RunFolder
from rnn_pipeline.workflows import get_workflow
from tests_support import PAIRS

QUIET = {"log": lambda line: None}

# Recorded on 2026-12-01 with the code before issue 17 (TF 2.21, Keras 3.15, CPU).
PINNED = {
    "causal_lm": 18.534996,
    "forecast direct": 0.30498844,
    "forecast autoregressive": 0.30338021,
    "forecast segment": 0.34769058,
    "translation": 29.586102,
}


def _close(name, value):
    assert math.isfinite(value)
    assert value == pytest.approx(PINNED[name], rel=1e-4), f"{name}: {value!r}"


def _declared(workflow, run_path):
    """Every file of the finished run is declared by the task or common to all tasks."""
    assert RunFolder(run_path).undeclared(workflow.run_files) == []
    assert (run_path / RunFolder.MODEL).is_file()


def test_language_model(tiny_corpus, tmp_path):
    # The defaults of the pinned run, stated: the schema's language-model recipe changed
    # after it was pinned (issue 35).
    config = tiny_config(tiny_corpus, model={"num_layers": 2, "dropout": 0.1,
                                             "embedding_dropout": 0.0, "tie_weights": True},
                         text={"lowercase": False, "min_frequency": 1, "max_size": None},
                         train={"epochs": 2, "seed": 3, "global_clipnorm": None,
                                "schedule": "constant"})
    workflow = get_workflow("causal_lm")(config, **QUIET).prepare()
    final = workflow.fit(tmp_path / "run")
    _close("causal_lm", final["valid_perplexity"])
    _declared(workflow, tmp_path / "run")


FORECAST = """
name = "pinned"
task = "forecast"
[series]
csv = "{csv}"
time_column = "t"
targets = ["y"]
covariates = ["x"]
season = 12
lookback = 24
horizon = 12
[model]
cell = "gru"
head = "{head}"
units = 8
num_layers = {layers}
segment_length = 12
dropout = 0.1
highway = false  # the figures were pinned before the highway existed
[train]
epochs = 2
batch_size = 16
learning_rate = 0.01
seed = 5
"""


@pytest.mark.parametrize("head, layers", [  # one head by default; 8 s each
    pytest.param("direct", 2, marks=pytest.mark.slow),
    pytest.param("autoregressive", 1, marks=pytest.mark.slow), ("segment", 1)])
def test_forecaster(tmp_path, head, layers):
    rows = ["t,y,x"] + [
        f"{1950 + i // 12}-{i % 12 + 1:02d},{100 + i + 20 * math.sin(i * math.pi / 6):.3f},"
        f"{math.cos(i * math.pi / 6):.3f}" for i in range(144)]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    config = loads(FORECAST.format(csv=(tmp_path / "s.csv").as_posix(), head=head,
                                   layers=layers))
    workflow = get_workflow("forecast")(config, **QUIET).prepare()
    table = workflow.fit(tmp_path / "run")
    _close(f"forecast {head}", table[0]["mse"])
    _declared(workflow, tmp_path / "run")


TRANSLATION = """
name = "pinned_mt"
task = "translation"
[pairs]
file = "{file}"
valid_fraction = 0.1
test_fraction = 0.1
[source_text]
normalization = "none"
[target_text]
normalization = "none"
tokenizer = "character"
[model]
cell = "lstm"
embedding_dim = 8
units = 8
num_layers = 2
bidirectional = true
attention = "additive"
dropout = 0.1
[train]
epochs = 2
batch_size = 8
learning_rate = 0.01
seed = 2
[decode]
num_beams = 1
max_tokens = 8
"""


@pytest.mark.slow  # 15 s
def test_translator(tmp_path):
    data = tmp_path / "pairs.tsv"
    data.write_text("".join(f"{s}\t{t}\n" for s, t in PAIRS), encoding="utf-8")
    config = loads(TRANSLATION.format(file=data.as_posix()))
    workflow = get_workflow("translation")(config, **QUIET).validate().prepare()
    workflow.fit(tmp_path / "run")
    import json

    rows = json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"]
    _close("translation", rows[-1]["valid_perplexity"])
    _declared(workflow, tmp_path / "run")
