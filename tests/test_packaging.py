"""The wheel ships every subpackage and the bundled pipelines."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_for_the_wheel():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(project["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(REPO).parts)
             for init in (REPO / "rnn_pipeline").rglob("__init__.py")}
    assert found - listed == set()
    modules = {".".join(py.parent.relative_to(REPO).parts)
               for py in (REPO / "rnn_pipeline").rglob("*.py")}
    assert modules - found == set(), "a folder of modules without __init__.py"
    assert "rnn_pipeline.pipelines" in listed and (REPO / "pipelines" / "__init__.py").is_file()
