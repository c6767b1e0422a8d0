"""End-to-end runs on real corpora (``pytest -m slow``)."""

import json

import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli


@pytest.mark.slow
def test_default_pipeline_learns_far_beyond_unigram(tmp_path):
    result = CliRunner().invoke(cli, ["fit", "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    final = json.loads((tmp_path / "run" / "metrics.json").read_text())["final"]
    assert final["valid_perplexity"] < 0.5 * final["unigram_valid_perplexity"]
    for name in ("config.toml", "vocab.txt", "model.keras", "metrics.csv", "curves.png"):
        assert (tmp_path / "run" / name).is_file()
