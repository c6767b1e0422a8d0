"""A new task is a plug-in: declared once (`declare_task`), here from a test module, it is
a valid ``task`` of a pipeline file, listed by ``rnn-pipeline list``, and trained,
evaluated and exported through the CLI, with no other file naming it."""

from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from conftest import TINY_PIPELINE, write_tiny_corpus
from rnn_pipeline.cli.main import cli
from rnn_pipeline.tasks.causal_lm.config import LanguageModelConfig
from rnn_pipeline.tasks import TASKS, Task, declare_task
from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow


@dataclass
class ToyConfig(LanguageModelConfig):
    """The toy task's sections: a language model's."""

    task: str = "toy"


class ToyWorkflow(LanguageModelWorkflow):
    """The toy task's workflow: a language model that says it is the toy."""

    def summary(self, final):
        return ["toy task", *super().summary(final)]


@pytest.fixture
def toy_task():
    task = declare_task(Task(name="toy", summary="a task declared by a test module",
                             config=ToyConfig, workflow=ToyWorkflow))
    yield task
    TASKS.unregister("toy")


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.slow  # 15 s on 2 cores: the slow suite runs it
def test_a_task_declared_once_is_fitted_evaluated_and_exported_through_the_cli(toy_task,
                                                                              tmp_path):
    pipeline = tmp_path / "toy.toml"
    pipeline.write_text('task = "toy"\n' + TINY_PIPELINE.format(**write_tiny_corpus(tmp_path)))
    listed = _run("list")
    assert any(line.split(maxsplit=1) == ["toy", toy_task.summary]
               for line in listed.output.splitlines())
    fitted = _run("fit", pipeline, "--run-dir", tmp_path / "run")
    assert fitted.exit_code == 0, fitted.output
    assert "toy task" in fitted.output  # the toy's own workflow trained it
    assert 'task = "toy"' in (tmp_path / "run" / "config.toml").read_text()
    evaluated = _run("evaluate", tmp_path / "run", "--split", "valid")
    assert evaluated.exit_code == 0, evaluated.output
    lines = evaluated.output.strip().splitlines()
    assert lines[-2].startswith("valid perplexity ")
    assert lines[-1] == f"Saved {tmp_path / 'run' / 'evaluation' / 'valid.json'}"
    exported = _run("export", tmp_path / "run", "--base", tmp_path / "exports")
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "exports" / "tiny" / "1" / "saved_model.pb").is_file()


def test_an_undeclared_task_lists_the_declared_ones(tmp_path):
    pipeline = tmp_path / "toy.toml"
    pipeline.write_text('task = "toy"\n' + TINY_PIPELINE.format(**write_tiny_corpus(tmp_path)))
    result = _run("fit", pipeline, "--run-dir", tmp_path / "run")
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: {pipeline}: task must be one of: 'causal_lm', "
                                     f"'forecast', 'speech', 'tagging', 'translation'. Received: "
                                     f"task='toy'")
    assert not (tmp_path / "run").exists()
