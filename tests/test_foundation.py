"""The shared foundation of the three tasks: declared registries checked when a pipeline
is read (before TensorFlow starts), the workflow contract, ``list`` and ``--print-config``,
and export options that a task does not take."""

import dataclasses
import importlib
import subprocess
import sys

import pytest
from click.testing import CliRunner

from rnn_pipeline import choices
from rnn_pipeline.cli.main import cli
from rnn_pipeline.config import TASK_CONFIGS, loads
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.workflows import WORKFLOWS
from rnn_pipeline.workflows.base import Workflow


@pytest.mark.parametrize("registry", [r for r in choices.ALL if r.module],
                         ids=lambda r: r.argument)
def test_declared_names_are_exactly_what_the_module_registers(registry):
    importlib.import_module(registry.module)
    assert sorted(registry._entries) == sorted(registry.declared)
    for name in registry.declared:
        registry.get(name)


@pytest.mark.parametrize("task, key, value", [
    ("causal_lm", "model.cell", "rnn"), ("forecast", "model.head", "linear"),
    ("translation", "model.attention", "luong"), ("causal_lm", "text.tokenizer", "mecab"),
    ("forecast", "train.optimizer", "rmsprop"), ("translation", "train.schedule", "linear"),
    ("causal_lm", "model.recurrent_initializer", "zeros"), (None, "task", "lm"),
    ("causal_lm", "model.activation", "cube"), ("translation", "model.merge", "max"),
    ("forecast", "series.fill", "zero"), ("forecast", "series.split", "random"),
    ("forecast", "series.instance_norm", "z"), ("causal_lm", "text.normalization", "nfc"),
    ("causal_lm", "data.corpus", "c4"), ("causal_lm", "embeddings.missing", "normal"),
    ("causal_lm", "word2vec.method", "glove"),
    ("causal_lm", "text.sentencepiece_model_type", "char")])
def test_a_wrong_choice_is_refused_when_the_file_is_read(task, key, value):
    section, _, leaf = key.rpartition(".")
    text = f'name = "x"\n' + (f'task = "{task}"\n' if task else "")
    text += f'[{section}]\n{leaf} = "{value}"\n' if section else f'{leaf} = "{value}"\n'
    registry = next(r for r in choices.ALL if r.argument == key)
    with pytest.raises(PipelineError) as caught:
        loads(text, source="p.toml")
    assert str(caught.value) == (f"p.toml: {key} must be one of: "
                                 f"{', '.join(map(repr, registry.names()))}. "
                                 f"Received: {key}={value!r}")


def test_pipeline_files_and_their_choices_are_checked_without_tensorflow():
    code = ("import sys\n"
            "from rnn_pipeline import api\n"
            "try:\n"
            "    api.pipeline_config('default', ['model.cell=rnn'])\n"
            "except ValueError as exc:\n"
            "    print(exc)\n"
            "api.catalogue()\n"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0].startswith("--set: model.cell must be one of: 'gru', 'lstm', 'simple_rnn'.")
    assert out[1] == "False False"


def test_every_task_fulfils_the_workflow_contract():
    hooks = ("check", "load_data", "build_model", "finish", "evaluation_lines",
             "make_serving_module", "summary")
    for task in choices.TASKS.names():
        cls = WORKFLOWS.get(task)
        assert issubclass(cls, Workflow)
        for hook in hooks:
            assert getattr(cls, hook) is not getattr(Workflow, hook), (task, hook)
        # the monitored figure may follow the config (speech: accuracy up, or WER down)
        workflow = cls(TASK_CONFIGS.get(task)())
        assert isinstance(workflow.metric, str) and workflow.direction in ("min", "max")


def test_list_shows_pipelines_with_their_task_and_every_registry():
    result = CliRunner().invoke(cli, ["list"], env={"COLUMNS": None})  # unwrapped
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for task in choices.TASKS.names():  # each with its declared summary
        assert any(line.split(maxsplit=1) == [task, choices.TASKS.get(task).summary]
                   for line in lines)
    assert any(line.split()[:2] == ["ptb_small", "[causal_lm]"] for line in lines)
    assert any(line.split()[:2] == ["etth1_segment", "[forecast]"] for line in lines)
    assert any(line.split()[:2] == ["tatoeba_en_ja", "[translation]"] for line in lines)
    for registry in choices.ALL:
        assert f"  {registry.argument}" in result.output
        assert ", ".join(registry.names()) in result.output


def test_print_config_prints_the_resolved_toml_and_trains_nothing(tmp_path):
    result = CliRunner().invoke(cli, ["fit", "ptb_small", "--set", "model.cell=gru",
                                      "--epochs", "3", "--run-dir", str(tmp_path / "run"),
                                      "--print-config"])
    assert result.exit_code == 0, result.output
    config = loads(result.output)
    assert (config.name, config.model.cell, config.train.epochs) == ("ptb_small", "gru", 3)
    assert not (tmp_path / "run").exists()


def test_an_export_option_of_another_task_is_one_line(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text('name = "f"\ntask = "forecast"\n[series]\n'
                                     'dataset = "airline_passengers"\n')
    result = CliRunner().invoke(cli, ["export", str(run), "--top-words", "5",
                                      "--base", str(tmp_path / "models")])
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: --top-words applies to 'causal_lm' runs only, "
                                     "not to a 'forecast' run. Received: --top-words=5")
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize("text, expected", [
    ('name = "x"\n[series]\nlookback = 3\n',
     "p.toml: Unknown config key 'series' in a 'causal_lm' pipeline. It belongs to "
     "'forecast' pipelines. Valid keys here: name, task, model, train, data, text, "
     "embeddings, word2vec. Received: series={'lookback': 3}"),
    ('task = "forecast"\n[decode]\nnum_beams = 2\n',
     "p.toml: Unknown config key 'decode' in a 'forecast' pipeline. It belongs to "
     "'translation' pipelines. Valid keys here: name, task, model, train, series. "
     "Received: decode={'num_beams': 2}"),
    ('task = "forecast"\n[model]\nattention = "dot"\n',
     "p.toml: Unknown config key 'model.attention'. It belongs to 'translation' pipelines. "
     "Valid keys here: model.cell, model.units, model.num_layers, model.dropout, "
     "model.bidirectional, model.head, model.segment_length, model.highway, "
     "model.residual_test, model.distribution, model.quantiles, model.conformal. "
     "Received: model.attention='dot'"),
    ('task = "translation"\n[model]\nactivation = "relu"\n',
     "p.toml: Unknown config key 'model.activation'. It belongs to 'causal_lm' pipelines. "
     "Valid keys here: model.cell, model.units, model.num_layers, model.dropout, "
     "model.bidirectional, model.embedding_dim, model.attention, model.merge. "
     "Received: model.activation='relu'"),
])
def test_a_section_or_key_of_another_task_is_named_with_its_task(text, expected):
    with pytest.raises(PipelineError) as caught:
        loads(text, source="p.toml")
    assert str(caught.value) == expected


def test_each_task_has_its_config_class_and_workflow():
    from rnn_pipeline.config import TASK_CONFIGS, dumps

    assert TASK_CONFIGS.names() == choices.TASKS.names()
    for task in TASK_CONFIGS.names():
        config = TASK_CONFIGS.get(task)()
        assert config.task == task
        assert loads(dumps(config)) == config


def test_models_name_their_arguments_and_the_builder_names_the_config_key():
    from rnn_pipeline.models import RNNBackbone
    from rnn_pipeline.tasks.causal_lm.config import LanguageModelConfig
    from rnn_pipeline.tasks.causal_lm.model import build_causal_lm
    from rnn_pipeline.tasks.forecast.config import ForecastConfig
    from rnn_pipeline.tasks.forecast.model import build_forecaster
    from rnn_pipeline.tasks.translation.config import TranslationConfig
    from rnn_pipeline.tasks.translation.model import build_translator

    with pytest.raises(PipelineError) as caught:
        RNNBackbone(7, units=0)
    assert str(caught.value) == "units must be at least 1. Received: units=0"
    lm = LanguageModelConfig().model
    with pytest.raises(PipelineError) as caught:
        build_causal_lm(dataclasses.replace(lm, units=0), 7, 2)
    assert str(caught.value) == "model.units must be at least 1. Received: model.units=0"
    forecast = ForecastConfig()
    forecast = dataclasses.replace(forecast, series=dataclasses.replace(forecast.series,
                                                                        lookback=10),
                                   model=dataclasses.replace(forecast.model, head="segment",
                                                             segment_length=3, units=4))
    with pytest.raises(PipelineError) as caught:
        build_forecaster(forecast, 1, 1, [0.0], [1.0])
    assert str(caught.value) == ("series.lookback must be a multiple of segment_length (3) in "
                                 "segment mode. Received: series.lookback=10")
    translation = TranslationConfig()
    translation = dataclasses.replace(translation, model=dataclasses.replace(
        translation.model, num_layers=0))
    with pytest.raises(PipelineError) as caught:
        build_translator(translation, 5, 5, 0)
    assert str(caught.value) == ("model.num_layers must be at least 1. "
                                 "Received: model.num_layers=0")


def test_modules_and_functions_stay_short():
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "rnn_pipeline"
    long = []
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if source.count("\n") > 350:
            long.append(f"{path.name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.end_lineno - node.lineno + 1 > 80:
                    long.append(f"{path.name}:{node.lineno} {node.name}()")
    assert long == []


def test_a_run_config_written_with_every_tasks_sections_still_reads(tmp_path):
    """Runs saved before each task had its own config class hold every section of every
    task at its defaults; a run folder still reads, a pipeline file does not."""
    from rnn_pipeline.config import TASK_CONFIGS
    from rnn_pipeline.tasks.causal_lm.config import LanguageModelConfig
    from rnn_pipeline.config.loader import _toml_value, to_dict
    from rnn_pipeline.runs import RunFolder

    everything = {}
    # The tasks of that time (tagging came later, with its own class); the LM's own
    # sections win.
    for task in ("translation", "forecast", "causal_lm"):
        for key, value in to_dict(TASK_CONFIGS.get(task)()).items():
            if isinstance(value, dict):
                everything.setdefault(key, {}).update(value)
    everything["model"].update(cell="gru", units=16, embedding_dim=16)  # tied: one size
    text = 'name = "old"\ntask = "causal_lm"\n' + "".join(
        f"\n[{section}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items())
        for section, values in everything.items())
    assert "[series]" in text and "attention = " in text
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text(text)
    config = RunFolder(run).load_config()
    assert isinstance(config, LanguageModelConfig)
    assert (config.name, config.model.cell, config.model.units) == ("old", "gru", 16)
    with pytest.raises(PipelineError, match="Unknown config key"):
        loads(text)  # a pipeline file is read strictly
    (run / "config.toml").write_text(text.replace("lookback = 96", "lookback = 48"))
    with pytest.raises(PipelineError, match="Unknown config key 'series' in a 'causal_lm'"):
        RunFolder(run).load_config()  # a section set to a value of its own is refused


def test_the_dependency_between_training_and_distribute_runs_one_way():
    # training/ uses distribute/ (strategies, per-replica state); distribute/ must not
    # import training/ back.
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "rnn_pipeline" / "distribute"
    back = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            back += [f"{path.name}: {name}" for name in names
                     if name.startswith("rnn_pipeline.training")]
    assert back == []
