"""fit -> evaluate on tiny data for every cell, depth, tying and tokenizer."""

import json

import pytest

from conftest import tiny_config
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


def test_run_folder_contents(tiny_corpus, tmp_path):
    config = tiny_config(tiny_corpus, train={"epochs": 2})
    workflow = get_workflow("causal_lm")(config, log=lambda line: None).prepare()
    final = workflow.fit(tmp_path / "run")
    run = RunFolder(tmp_path / "run")
    assert run.load_config() == config
    assert run.load_vocabulary().itos == workflow.vocabulary.itos
    metrics = json.loads(run.file("metrics.json").read_text())
    assert [row["epoch"] for row in metrics["epochs"]] == [1, 2]
    assert metrics["final"] == pytest.approx(final)
    csv_lines = run.file("metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("epoch,learning_rate,train_loss,train_perplexity,valid_loss")
    assert len(csv_lines) == 3
    assert run.file("curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(run.file("tensorboard").rglob("events.out.tfevents.*"))
    assert run.file("model.keras").stat().st_size > 0


def test_seeded_runs_are_reproducible(tiny_corpus, tmp_path):
    results = []
    for name in ("a", "b"):
        config = tiny_config(tiny_corpus, model={"dropout": 0.2}, train={"seed": 7})
        workflow = get_workflow("causal_lm")(config, log=lambda line: None).prepare()
        results.append(workflow.fit(tmp_path / name))
    assert results[0] == results[1]
    config = tiny_config(tiny_corpus, model={"dropout": 0.2}, train={"seed": 8})
    other = get_workflow("causal_lm")(config, log=lambda line: None).prepare().fit(tmp_path / "c")
    assert other["valid_perplexity"] != results[0]["valid_perplexity"]


def test_training_lowers_perplexity(tiny_corpus, tmp_path):
    config = tiny_config(tiny_corpus, model={"units": 16, "embedding_dim": 16},
                         train={"epochs": 8, "learning_rate": 0.02})
    workflow = get_workflow("causal_lm")(config, log=lambda line: None).prepare()
    final = workflow.fit(tmp_path / "run")
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
