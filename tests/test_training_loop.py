"""The training loop's options keep the losses: an XLA-compiled step trains as the plain one."""

import numpy as np
import pytest

from conftest import tiny_config
from rnn_pipeline.training.gradients import read_gradient_log
from rnn_pipeline.workflows import get_workflow


def _train(tiny_corpus, folder, jit_compile):
    config = tiny_config(tiny_corpus, model={"num_layers": 2, "tie_weights": True,
                                             "dropout": 0.0, "embedding_dropout": 0.0},
                         train={"epochs": 1, "seed": 3, "global_clipnorm": 0.5,
                                "jit_compile": jit_compile})
    workflow = get_workflow("causal_lm")(config, log=lambda line: None).prepare()
    workflow.fit(folder)
    return read_gradient_log(folder / "gradients.csv"), [w.numpy() for w in
                                                         workflow.model.weights]


@pytest.mark.slow  # 8 s on 2 cores: the slow suite runs it
def test_an_xla_compiled_step_gives_the_losses_gradients_and_weights_of_the_plain_one(
        tiny_corpus, tmp_path):
    plain_log, plain_weights = _train(tiny_corpus, tmp_path / "plain", False)
    xla_log, xla_weights = _train(tiny_corpus, tmp_path / "xla", True)
    assert len(plain_log["loss"]) > 10
    np.testing.assert_allclose(xla_log["loss"], plain_log["loss"], rtol=1e-5)
    for column in ("grad_norm", "grad_norm_token_embedding", "grad_norm_lstm_0"):
        np.testing.assert_allclose(xla_log[column], plain_log[column], rtol=1e-5)
    assert xla_log["clipped"].tolist() == plain_log["clipped"].tolist()
    for xla, plain in zip(xla_weights, plain_weights):
        np.testing.assert_allclose(xla, plain, rtol=1e-5, atol=1e-6)
