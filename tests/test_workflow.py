"""fit -> evaluate on tiny data for every cell, depth, tying and tokenizer."""

import json

import pytest

from conftest import tiny_config, write_tiny_corpus
from rnn_pipeline.runs import RunFolder
from rnn_pipeline.workflows import get_workflow

TOKENIZERS = ["whitespace", "character", "unicode_script", "sentencepiece"]
# Every cell x depth x tying, each tokenizer paired with every cell.
CASES = [(cell, layers, tie, TOKENIZERS[(i + j) % 4])
         for i, cell in enumerate(["simple_rnn", "lstm", "gru"])
         for j, (layers, tie) in enumerate([(1, False), (2, False), (1, True), (2, True)])]


# The default suite runs a subset that still covers every cell, tokenizer, depth and tying;
# `pytest -m slow` runs the whole matrix.
FAST = {("simple_rnn", 2, False, "character"), ("lstm", 1, True, "sentencepiece"),
        ("gru", 1, False, "unicode_script"), ("lstm", 2, True, "whitespace")}


@pytest.mark.parametrize("cell, layers, tie, tokenizer", [
    case if case in FAST else pytest.param(*case, marks=pytest.mark.slow) for case in CASES])
def test_fit_then_evaluate(tiny_corpus, tmp_path, cell, layers, tie, tokenizer):
    config = tiny_config(tiny_corpus, model={"cell": cell, "num_layers": layers,
                                             "tie_weights": tie},
                         text={"tokenizer": tokenizer})
    workflow = get_workflow("causal_lm")(config, log=lambda line: None).prepare()
    final = workflow.fit(tmp_path / "run")
    vocab_size = len(workflow.vocabulary)
    for split in ("train", "valid", "test"):
        assert 1.0 < final[f"{split}_perplexity"] < 3 * vocab_size
    reloaded = get_workflow("causal_lm").from_run(tmp_path / "run", log=lambda line: None)
    again = reloaded.evaluate_split("test")
    assert again["perplexity"] == pytest.approx(final["test_perplexity"], rel=1e-5)
    assert again["tokens"] == final["test_tokens"]


def _seeded_config(files, seed):
    return tiny_config(files, model={"units": 16, "embedding_dim": 16, "dropout": 0.2},
                       train={"epochs": 8, "learning_rate": 0.02, "seed": seed})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(corpus files, config, workflow, final figures, run folder) of one seeded fit with
    dropout, 8 epochs, that the next three tests read (one fit instead of three)."""
    folder = tmp_path_factory.mktemp("trained")
    files = write_tiny_corpus(folder)
    config = _seeded_config(files, seed=7)
    workflow = get_workflow("causal_lm")(config, log=lambda line: None).prepare()
    return files, config, workflow, workflow.fit(folder / "run"), folder / "run"


def test_run_folder_contents(trained):
    _, config, workflow, final, path = trained
    run = RunFolder(path)
    assert run.load_config() == config
    assert run.load_vocabulary().itos == workflow.vocabulary.itos
    metrics = json.loads(run.file("metrics.json").read_text())
    assert [row["epoch"] for row in metrics["epochs"]] == list(range(1, 9))
    assert metrics["final"] == pytest.approx(final)
    csv_lines = run.file("metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("epoch,learning_rate,train_loss,train_perplexity,valid_loss")
    assert len(csv_lines) == 1 + 8
    assert run.file("curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(run.file("tensorboard").rglob("events.out.tfevents.*"))
    assert run.file("model.keras").stat().st_size > 0


def test_seeded_runs_are_reproducible(trained, tmp_path):
    files, _, _, first, _ = trained
    fit = [get_workflow("causal_lm")(_seeded_config(files, seed), log=lambda line: None)
           .prepare().fit(tmp_path / str(seed)) for seed in (7, 8)]
    assert fit[0] == first
    assert fit[1]["valid_perplexity"] != first["valid_perplexity"]


def test_training_lowers_perplexity(trained):
    final = trained[3]
    assert final["train_perplexity"] < 0.7 * final["unigram_train_perplexity"]


def test_summary_says_better_or_worse_than_unigram():
    from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow

    final = {}
    for split, ppl, uni in (("train", 50.0, 200.0), ("valid", 400.0, 100.0), ("test", 8.0, 8.0)):
        final.update({f"{split}_perplexity": ppl, f"unigram_{split}_perplexity": uni,
                      f"{split}_tokens": 1000})
    lines = LanguageModelWorkflow.summary(final)
    assert "(unigram    200.00; 2.00 bits/token better)" in lines[0]
    assert "(unigram    100.00; 2.00 bits/token worse)" in lines[1]
    assert "0.00 bits/token better" in lines[2]


def test_a_tied_model_starts_from_the_unigram_distribution(tiny_corpus):
    import numpy as np

    from rnn_pipeline.data.text_pipeline import unigram_log_probs
    from rnn_pipeline.tasks.causal_lm.perplexity import evaluate_perplexity as evaluate

    config = tiny_config(tiny_corpus, model={"tie_weights": True})
    workflow = get_workflow("causal_lm")(config, log=lambda line: None).prepare()
    expected = unigram_log_probs(workflow.streams["train"], len(workflow.vocabulary))
    np.testing.assert_allclose(workflow.model.output_bias.bias.numpy(), expected, rtol=1e-6)
    # Untrained, the small initial embedding barely moves the logits off that bias.
    untrained = evaluate(workflow.model, workflow.datasets["train"])["perplexity"]
    assert untrained == pytest.approx(workflow.unigram["train"], rel=0.02)
    untied = tiny_config(tiny_corpus, model={"tie_weights": False})
    untied = get_workflow("causal_lm")(untied, log=lambda line: None).prepare()
    assert not np.any(untied.model.lm_head.bias.numpy())  # untied: its own initializer
    sgd = tiny_config(tiny_corpus, model={"tie_weights": True},
                      train={"optimizer": "sgd", "learning_rate": 1.0})
    sgd = get_workflow("causal_lm")(sgd, log=lambda line: None).prepare()
    assert not np.any(sgd.model.output_bias.bias.numpy())  # SGD: from zero
