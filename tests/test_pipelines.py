"""Every bundled pipeline validates; a 1-epoch smoke run of each on a slice of its real data
(one per task in the default suite, the others with ``-m slow``)."""

import math

import pytest

from rnn_pipeline import config as config_lib
from rnn_pipeline.config.bundled import bundled_names, resolve_pipeline
from rnn_pipeline.datasets import DATASETS
from rnn_pipeline.workflows import get_workflow


def test_bundled_pipelines():
    assert bundled_names() == ["airline_passengers", "aozora_ja", "default", "etth1_segment",
                               "ettm1_segment", "fsdd_ctc", "fsdd_digits", "ja_ner_wikipedia", "melbourne_temperatures",
                               "ptb_best", "ptb_small", "tatoeba_en_es", "tatoeba_en_ja",
                               "tinyshakespeare", "ud_english_ewt_upos", "wikitext2",
                               "wnut17_ner"]


# Every bundled pipeline with -m slow (the default 20 s, the PTB recipe 14 s); by default
# each task's fast run is its workflow test, on the same code path.
FAST = set()


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_pipeline_validates(name):
    config = config_lib.load(resolve_pipeline(name))
    workflow = get_workflow(config.task)(config, log=lambda line: None)
    assert workflow.validate() is workflow


@pytest.mark.parametrize("name", [name if name in FAST else pytest.param(
    name, marks=pytest.mark.slow) for name in bundled_names()])
def test_one_epoch_on_a_slice(name, tmp_path, dataset):
    config = config_lib.load(resolve_pipeline(name))
    sources = {"data": "corpus", "series": "dataset", "pairs": "dataset", "speech": "dataset"}
    for needed in (getattr(getattr(config, section), key) for section, key in sources.items()
                   if hasattr(config, section)):
        if needed in DATASETS.names():
            dataset(needed)
    if config.task == "forecast":  # every row is needed by the split: fewer train windows
        config = config_lib.apply_overrides(config, ["train.epochs=1", "series.stride=25",
                                                     "model.units=16"])
        workflow = get_workflow(config.task)(config, log=lambda line: None).prepare()
        table = workflow.fit(tmp_path / "run")
        names = [row["model"] for row in table]
        if config.model.highway:
            assert names.pop(1) == f"{names[0]} linear part"
        assert names[1:] == ["repeat", "seasonal_naive", "mean", "linear", "nlinear", "dlinear"]
        assert all(math.isfinite(row["mse"]) for row in table)
        return
    if config.task == "translation":
        config = config_lib.apply_overrides(config, [
            "pairs.max_pairs=40", "train.epochs=1", "model.units=8", "model.embedding_dim=8",
            "decode.max_tokens=5", "decode.num_beams=2"])
        workflow = get_workflow(config.task)(config, log=lambda line: None).prepare()
        final = workflow.fit(tmp_path / "run")
        assert final["pairs"] == 40 and 0.0 <= final["bleu"] <= 100.0
        return
    if config.task == "speech":
        config = config_lib.apply_overrides(config, [
            "train.epochs=1", "model.units=8", "model.num_layers=1"])
        workflow = get_workflow(config.task)(config, log=lambda line: None).prepare()
        final = workflow.fit(tmp_path / "run")
        assert 0.0 <= final["test"]["wer"] and final["test"]["count"] > 0
        return
    if config.task == "tagging":
        config = config_lib.apply_overrides(config, [
            "train.epochs=1", "model.units=8", "model.embedding_dim=8", "model.char_units=4"])
        workflow = get_workflow(config.task)(config, log=lambda line: None).prepare()
        final = workflow.fit(tmp_path / "run")
        assert final["test"]["accuracy"] > final["baseline"]["test"]["accuracy"] / 2
        return
    small_head = ["model.cutoffs=[10, 50]"] if config.model.head == "adaptive" else []
    config = config_lib.apply_overrides(config, [
        "data.max_lines=60", "train.epochs=1", "train.batch_size=4", *small_head])
    workflow = get_workflow(config.task)(config, log=lambda line: None).prepare()
    final = workflow.fit(tmp_path / "run")
    for split in ("train", "valid", "test"):
        assert math.isfinite(final[f"{split}_perplexity"]) and final[f"{split}_tokens"] > 0
    assert isinstance(workflow.model.generate("", max_tokens=3), str)


def test_ptb_small_is_the_zaremba_setup():
    config = config_lib.load(resolve_pipeline("ptb_small"))
    assert (config.model.num_layers, config.model.units, config.model.init_scale) == (2, 200, 0.1)
    assert (config.train.bptt, config.train.batch_size, config.train.epochs) == (20, 20, 13)
    # lr 1 and clip 5 on the loss summed over 20 steps = lr 20 and clip 0.25 on the mean.
    assert (config.train.optimizer, config.train.learning_rate, config.train.global_clipnorm,
            config.train.schedule, config.train.decay_start) == ("sgd", 20.0, 0.25, "step", 4)
    assert config.model.dropout == 0.0 and not config.model.tie_weights


def _language_models():
    return [name for name in bundled_names()
            if config_lib.load(resolve_pipeline(name)).task == "causal_lm"]


# Lines per split for the slow check below: enough for ~100+ steps of the pipeline's batch.
LM_SLICE_LINES = {"default": None, "wikitext2": 4000, "aozora_ja": 6000}


@pytest.mark.slow
@pytest.mark.parametrize("name", _language_models())
def test_every_language_model_beats_unigram_on_valid_after_one_epoch(name, tmp_path, dataset):
    config = config_lib.load(resolve_pipeline(name))
    if config.data.corpus in DATASETS.names():
        dataset(config.data.corpus)
    lines = LM_SLICE_LINES.get(name, 8000)
    overrides = ["train.epochs=1"] + ([f"data.max_lines={lines}"] if lines else [])
    config = config_lib.apply_overrides(config, overrides)
    workflow = get_workflow(config.task)(config, log=lambda line: None).prepare()
    final = workflow.fit(tmp_path / "run")
    assert final["valid_perplexity"] < final["unigram_valid_perplexity"], final


@pytest.mark.slow
def test_a_pipeline_with_only_data_set_beats_half_the_unigram_in_two_epochs(tmp_path):
    """The language model's recipe (issue 35), on the pydoc topics with only [data] set;
    benchmarks/own_corpus.py runs it on three corpora."""
    config = config_lib.loads('[data]\ncorpus = "pydoc_topics"\n')
    config = config_lib.apply_overrides(config, ["train.epochs=2"])
    workflow = get_workflow(config.task)(config, log=lambda line: None).prepare()
    final = workflow.fit(tmp_path / "run")
    assert final["valid_perplexity"] <= 0.5 * final["unigram_valid_perplexity"], final
