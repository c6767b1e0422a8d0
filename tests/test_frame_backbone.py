"""The frame backbone: the token backbone's recurrent encoder over float frames, under a
mask; config and .keras round trips."""

import keras
import numpy as np
import pytest

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.models import FrameBackbone, RNNBackbone

IDS = np.array([[1, 2, 3, 4], [4, 3, 2, 1]], np.int32)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_it_runs_the_token_backbones_stack_over_frames(cell):
    options = dict(cell=cell, units=3, num_layers=2, bidirectional=True, init_scale=0.2,
                   seed=4)
    tokens = RNNBackbone(9, embedding_dim=5, **options)
    frames = FrameBackbone(5, **options)
    frames.build()
    assert [(w.path.split("/")[-3:], w.shape) for w in frames.weights] == [
        (w.path.split("/")[-3:], w.shape) for w in tokens.weights[1:]]  # same layers, order
    for ours, theirs in zip(frames.weights, tokens.weights[1:]):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # same seeds
    vectors = tokens.token_embedding(IDS)  # (batch, time, 5)
    np.testing.assert_allclose(frames(vectors).numpy(), tokens(IDS).numpy(), atol=1e-6)


def test_padding_frames_change_nothing_for_the_real_ones():
    backbone = FrameBackbone(3, cell="gru", units=2, num_layers=2, projection_dim=4, seed=1)
    rng = np.random.default_rng(0)
    real = rng.normal(size=(1, 5, 3)).astype(np.float32)
    padded = np.concatenate([real, 100 * rng.normal(size=(1, 3, 3))], 1).astype(np.float32)
    mask = np.arange(8)[None] < 5
    out = backbone(padded, mask=mask).numpy()
    assert out.shape == (1, 8, 4)
    np.testing.assert_allclose(out[:, :5], backbone(real).numpy(), atol=1e-6)


def test_config_and_keras_file_round_trip(tmp_path):
    backbone = FrameBackbone(3, cell="lstm", units=2, num_layers=1, dropout=0.1,
                             input_dropout=0.2, projection_dim=4, seed=2, name="frames")
    config = backbone.get_config()
    assert FrameBackbone.from_config(config).get_config() == config
    x = np.linspace(-1, 1, 2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    model = keras.Sequential([keras.Input((None, 3)), backbone])
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras")
    assert type(loaded.layers[0]) is FrameBackbone
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


@pytest.mark.parametrize("key, value, rule", [
    ("input_dim", 0, "must be an integer of at least 1"),
    ("projection_dim", -1, "must be an integer of at least 0"),
    ("input_dropout", 1.0, "must be in [0, 1)"),
    ("dropout", -0.1, "must be in [0, 1)"),
    ("units", 0, "must be at least 1"),
    ("cell", "lstmm", "must be one of:"),
])
def test_bad_arguments_are_one_line_naming_them(key, value, rule):
    options = {"input_dim": 3, key: value}
    with pytest.raises(PipelineError) as info:
        FrameBackbone(**options)
    message = str(info.value)
    assert message.startswith(f"{key} {rule}") and message.endswith(
        f"Received: {key}={value!r}") and "\n" not in message
