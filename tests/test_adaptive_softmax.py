"""The adaptive softmax head: an exact distribution, its training NLL, the config, the
export."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from conftest import TINY_PIPELINE, tiny_config, write_tiny_corpus
from rnn_pipeline.cli.main import cli
from rnn_pipeline.config import ModelConfig, loads
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.export import export_saved_model
from rnn_pipeline.export.graph_checks import gpu_only_ops, read_saved_model
from rnn_pipeline.tasks.causal_lm.serving import LanguageModelServing
from rnn_pipeline.tasks.causal_lm.model import CausalLM, build_causal_lm
from rnn_pipeline.tasks.causal_lm.adaptive_softmax import AdaptiveSoftmax
from rnn_pipeline.training.state import reset_states
from rnn_pipeline.workflows import get_workflow
from tests_support import (TINY_VOCAB, assert_one_line_error, full_forward_logits,
                           tf_only_process, tiny_lm)

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("cutoffs, div_value", [([3], 4.0), ([2, 5], 2.0), ([1, 4, 9], 1.0)])
def test_probabilities_sum_to_one_over_the_whole_vocabulary(cutoffs, div_value):
    layer = AdaptiveSoftmax(11, cutoffs, div_value=div_value, seed=2)
    hidden = RNG.normal(0, 3, (3, 2, 8)).astype(np.float32)  # (batch, time, units)
    log_probs = layer(hidden).numpy()  # (batch, time, vocab)
    assert log_probs.shape == (3, 2, 11)
    np.testing.assert_allclose(np.exp(log_probs).sum(-1), 1.0, atol=1e-5)
    targets = RNG.integers(0, 11, (3, 2))
    np.testing.assert_allclose(
        layer.token_nll(hidden, targets).numpy(),
        -np.take_along_axis(log_probs, targets[..., None], -1)[..., 0], atol=1e-5)


def test_a_hand_computed_case():
    # Vocabulary 5, head = words 0-1 + one tail entry, tail = words 2-4 through 1 dimension.
    layer = AdaptiveSoftmax(5, [2], div_value=2.0)
    layer.build((None, 2))
    layer.head_kernel.assign([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    layer.head_bias.assign([0.0, 0.5, 0.0])
    projection, kernel, bias = layer.tail_weights[0]
    assert projection.shape == (2, 1)  # units 2 / div_value 2
    projection.assign([[2.0], [0.0]])
    kernel.assign([[0.0, 1.0, 2.0]])
    bias.assign([0.0, 0.0, -1.0])
    # h = (1, 0): head logits (1, 0.5, 2); tail input z = 2, tail logits (0, 2, 3).
    head = [1.0, 0.5, 2.0]
    head_norm = math.log(sum(math.exp(v) for v in head))
    tail = [0.0, 2.0, 3.0]
    tail_norm = math.log(sum(math.exp(v) for v in tail))
    expected = [head[0] - head_norm, head[1] - head_norm] + [
        head[2] - head_norm + v - tail_norm for v in tail]
    hidden = np.array([[1.0, 0.0]], np.float32)
    np.testing.assert_allclose(layer(hidden).numpy()[0], expected, atol=1e-6)
    np.testing.assert_allclose(layer.token_nll(hidden, np.array([3])).numpy(), [-expected[3]],
                               atol=1e-6)


def _adaptive_lm(stateful=True):
    return build_causal_lm(ModelConfig(embedding_dim=4, units=4, num_layers=2, dropout=0.0,
                                       head="adaptive", cutoffs=[3, 6], div_value=2.0),
                           10, batch_size=2, stateful=stateful)


def test_training_loss_and_gradients_equal_the_full_log_probabilities_path():
    model = _adaptive_lm()
    model.compile()
    x = RNG.integers(0, 10, (2, 5)).astype(np.int32)
    y = RNG.integers(0, 10, (2, 5)).astype(np.int32)
    weight = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], np.float32)

    def loss_and_gradients(fast):
        reset_states(model)
        with tf.GradientTape() as tape:
            if fast:
                loss, nll = model.forward_loss(x, y, weight, training=True)
                assert nll.shape == (2, 5)
            else:
                log_probs = model(x, training=True)  # (batch, time, vocab)
                loss = model.compute_loss(x=x, y=y, y_pred=log_probs, sample_weight=weight)
        return float(loss), tape.gradient(loss, model.trainable_variables)

    fast_loss, fast_gradients = loss_and_gradients(True)
    full_loss, full_gradients = loss_and_gradients(False)
    np.testing.assert_allclose(fast_loss, full_loss, rtol=1e-5)
    for fast, full in zip(fast_gradients, full_gradients):
        np.testing.assert_allclose(tf.convert_to_tensor(fast).numpy(),
                                   tf.convert_to_tensor(full).numpy(), atol=1e-5)
    # ... and the loss is the weighted mean NLL over batch x time (Keras' reduction).
    reset_states(model)
    log_probs = model(x, training=False).numpy()
    nll = -np.take_along_axis(log_probs, y[..., None], -1)[..., 0]
    np.testing.assert_allclose(full_loss, (nll * weight).sum() / nll.size, rtol=1e-5)


def test_config_and_keras_file_round_trip(tmp_path):
    model = _adaptive_lm(stateful=False)
    clone = CausalLM.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert model.get_config()["cutoffs"] == [3, 6]
    layer = model.lm_head
    assert AdaptiveSoftmax.from_config(layer.get_config()).get_config() == layer.get_config()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    ids = RNG.integers(0, 10, (2, 4)).astype(np.int32)
    np.testing.assert_allclose(loaded(ids).numpy(), model(ids).numpy(), atol=1e-6)
    assert loaded.head == "adaptive" and loaded.lm_head.cutoffs == [3, 6]


@pytest.mark.parametrize("model, vocabulary, message", [
    ({"head": "adaptive", "cutoffs": [6, 3]}, 10, "model.cutoffs must be a non-empty list of "
     "strictly increasing integers between 1 and vocabulary_size - 1 = 9"),
    ({"head": "adaptive", "cutoffs": [3, 10]}, 10, "model.cutoffs must be a non-empty list"),
    ({"head": "adaptive"}, 10, "model.cutoffs must be a non-empty list"),
    ({"head": "adaptive", "cutoffs": [3], "div_value": 0.5}, 10,
     "model.div_value must be at least 1. Received: model.div_value=0.5"),
    ({"head": "adaptive", "cutoffs": [3], "tie_weights": True}, 10,
     "model.tie_weights must be false with head='adaptive' (set model.tie_weights = false, "
     "or leave it unset): only the full softmax shares the embedding "
     "matrix. Received: model.tie_weights=True"),
    ({"cutoffs": [3]}, 10, "model.cutoffs must be empty unless head='adaptive'. "
     "Received: model.cutoffs=[3]"),
])
def test_bad_adaptive_settings_name_the_key(model, vocabulary, message):
    with pytest.raises(PipelineError, match=f"^{message}".replace("(", r"\(").replace(
            ")", r"\)").replace("[", r"\[")):
        build_causal_lm(ModelConfig(embedding_dim=4, units=4, num_layers=1, **model),
                        vocabulary, batch_size=2)


def test_a_pipeline_file_names_the_language_model_heads():
    with pytest.raises(PipelineError) as caught:
        loads('name = "x"\n[model]\nhead = "sampled"\n', source="p.toml")
    assert str(caught.value) == ("p.toml: model.head must be one of: 'adaptive', 'full'. "
                                 "Received: model.head='sampled'")
    with pytest.raises(PipelineError, match=r"model.cutoffs must be a list of integers"):
        loads('name = "x"\n[model]\ncutoffs = 2000\n', source="p.toml")


@pytest.mark.slow  # 18 s on 2 cores: the slow suite runs it
def test_fit_trains_an_adaptive_model_and_cutoffs_beyond_the_vocabulary_write_nothing(
        tmp_path, monkeypatch):
    files = write_tiny_corpus(tmp_path)
    pipeline = tmp_path / "tiny.toml"
    pipeline.write_text(TINY_PIPELINE.format(**files))
    runner = CliRunner()
    # tie_weights unset: untied with the adaptive head (only the full softmax can be tied)
    result = runner.invoke(cli, ["fit", str(pipeline), "--run-dir", str(tmp_path / "big"),
                                 "--set", "model.head=adaptive", "--set",
                                 "model.cutoffs=[5, 100000]"])
    assert_one_line_error(result, "model.cutoffs must be a non-empty list of strictly "
                                  "increasing integers between 1 and vocabulary_size - 1")
    assert not (tmp_path / "big").exists()

    monkeypatch.setattr("rnn_pipeline.training.precision.cpu_flags", lambda: {"avx512_bf16"})
    result = runner.invoke(cli, ["fit", str(pipeline), "--run-dir", str(tmp_path / "run"),
                                 "--set", "model.head=adaptive", "--set", "model.cutoffs=[5, 12]",
                                 "--set", "train.epochs=2", "--set", 'train.precision="auto"',
                                 "--set", "train.jit_compile=true"])
    assert result.exit_code == 0, result.output
    # On a CPU with bfloat16 units, auto keeps the adaptive head float32 (with XLA).
    assert ("train.precision = 'auto': float32, because the CPU has AVX512-BF16 (avx512_bf16), "
            "but the adaptive head trains faster in float32 with train.jit_compile"
            ) in result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    epochs = metrics["epochs"]
    assert epochs[1]["train_loss"] < epochs[0]["train_loss"]
    # The perplexity metric of training is exp(mean NLL), read from the head's own NLL.
    assert epochs[-1]["train_perplexity"] == pytest.approx(math.exp(epochs[-1]["train_loss"]),
                                                           rel=1e-3)
    generated = runner.invoke(cli, ["generate", str(tmp_path / "run"), "--prompt", "the",
                                    "--max-tokens", "3"])
    assert generated.exit_code == 0 and generated.output.split()[0] == "the"


@pytest.mark.slow  # 12 s on 2 cores: the slow suite runs it
def test_an_xla_step_trains_the_adaptive_head_as_the_plain_one(tmp_path):
    files = write_tiny_corpus(tmp_path)
    runs = []
    for jit in (False, True):  # one layer: two under XLA are test_training_loop's
        config = tiny_config(files, model={"num_layers": 1, "head": "adaptive",
                                           "cutoffs": [4, 10], "tie_weights": False,
                                           "dropout": 0.0, "embedding_dropout": 0.0},
                             train={"epochs": 1, "seed": 3, "global_clipnorm": 0.5,
                                    "jit_compile": jit})
        workflow = get_workflow("causal_lm")(config, log=lambda line: None).prepare()
        logs = workflow.fit(tmp_path / f"run{jit}")
        runs.append((logs, [w.numpy() for w in workflow.model.weights]))
    (plain_logs, plain), (xla_logs, xla) = runs
    for a, b in zip(plain, xla):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = tiny_lm(cutoffs=[4, 7])
    base = tmp_path_factory.mktemp("saved_models")
    path, _ = export_saved_model(lambda assets: LanguageModelServing(model, assets, top_words=3),
                                 base, "adaptive")
    return model, path


@pytest.mark.slow  # 10 s on 2 cores: the slow suite runs it
def test_the_export_serves_the_adaptive_head_in_a_tensorflow_only_process(exported):
    model, path = exported
    assert gpu_only_ops(read_saved_model(path)) == []
    out = tf_only_process(path, {"next_words": {"prompt": ["the cat"]},
                                 "score": {"text": ["the cat sat", "zebra"]}},
                          cli=("score", 'text=["the cat sat"]'))
    assert out["modules"] == []
    logits = full_forward_logits(model, [1, 2, 3])
    np.testing.assert_allclose(np.exp(logits).sum(), 1.0, atol=1e-5)  # already normalised
    best = np.argsort(-logits)[:3]
    assert out["next_words"]["words"][0] == [TINY_VOCAB[i] for i in best]
    np.testing.assert_allclose(out["next_words"]["probabilities"][0], np.exp(logits[best]),
                               atol=1e-5)
    scores = model.score(["the cat sat", "zebra"])
    np.testing.assert_allclose(out["score"]["log_likelihood"], scores["log_likelihood"],
                               atol=1e-5)
    assert "Result for output key log_likelihood:" in out["saved_model_cli"]
