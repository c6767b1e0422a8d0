"""One loss value per task model, pinned before the frame backbone was factored out of
`RNNBackbone` (issue 37): a refactor of the shared recurrent stack that changes what a
model computes, how it is initialised or how its dropout is seeded moves one of them.

Weights are set from their shapes alone (`_fill`), so each value pins the computation;
the language model's seeded initialisation (``init_scale``) and the training-mode losses
(dropout on) pin the seeds as well."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_pipeline.models import RNNBackbone
from rnn_pipeline.tasks.causal_lm.model import CausalLM
from rnn_pipeline.tasks.forecast.model import Forecaster
from rnn_pipeline.tasks.tagging.model import SequenceTagger
from rnn_pipeline.tasks.translation.model import Seq2SeqTranslator

# Recorded with the code before the frame backbone (TF 2.21, Keras 3, CPU).
PINNED = {
    "lm seeded": 2.3982512950897217,
    "lm seeded training": 2.3983452320098877,
    "lm filled": 2.366903066635132,
    "lm gru bidirectional backbone": -0.3933330774307251,
    "translation": 2.496079921722412,
    "forecast": 0.6209686398506165,
    "tagging softmax": 1.0839821100234985,
    "tagging softmax training": 1.0989598035812378,
    "tagging crf": 2.2112748622894287,
}
IDS = np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], np.int32)


def _fill(model):
    """Every weight from its shape alone: 0.3 sin(i + size), whatever the weight order."""
    for w in model.weights:
        size = int(np.prod(w.shape))
        values = 0.3 * np.sin(np.arange(size) + size).reshape(w.shape)
        w.assign(values.astype(w.dtype))
    return model


def _lm(**options):
    backbone = RNNBackbone(11, cell=options.pop("cell", "lstm"), embedding_dim=4, units=4,
                           num_layers=2, dropout=0.3, embedding_dropout=0.2, seed=3,
                           **options)
    return CausalLM(backbone, tie_weights=True)


def _loss(model, x, y, training=False):
    model.compile()
    loss, _ = model.forward_loss(x, y, training=training)
    return float(loss)


def _values():
    y = np.roll(IDS, -1, axis=1)
    seeded = _lm(init_scale=0.1)
    values = {"lm seeded": _loss(seeded, IDS, y),
              "lm seeded training": _loss(seeded, IDS, y, training=True),
              "lm filled": _loss(_fill(_lm()), IDS, y)}
    backbone = _fill(RNNBackbone(11, cell="gru", embedding_dim=3, units=2, num_layers=2,
                                 bidirectional=True))
    values["lm gru bidirectional backbone"] = float(tf.reduce_sum(
        backbone(IDS) * np.linspace(-1, 1, 4)))
    translator = _fill(Seq2SeqTranslator(11, 13, pad_id=0, embedding_dim=4, units=5,
                                         num_layers=2))
    source = np.array([[5, 6, 7, 2, 0], [8, 9, 10, 4, 2]], np.int32)
    target = np.array([[1, 5, 6, 2], [1, 7, 8, 2]], np.int32)
    values["translation"] = _loss(translator, {"source_ids": source,
                                               "target_ids": target[:, :-1]}, target[:, 1:])
    forecaster = _fill(Forecaster(8, 4, 3, 2, mean=[1.0, 2.0, 3.0], std=[2.0, 1.0, 0.5],
                                  cell="lstm", units=3, num_layers=2, bidirectional=True))
    history = np.sin(np.arange(48, dtype=np.float32)).reshape(2, 8, 3)
    values["forecast"] = _loss(forecaster, history, history[:, 4:, :2])
    words = ["<pad>", "<unk>", "the", "cat", "sat"]
    characters = ["<pad>", "<unk>", "t", "h", "e", "c", "a", "s"]
    tokens = tf.constant([["the", "cat", "sat"], ["cat", "zebra", ""]])
    tags = np.array([[0, 1, 2], [1, 0, 0]], np.int32)
    for head in ("softmax", "crf"):
        tagger = SequenceTagger(words, characters, ["O", "B-X", "I-X"], head=head, units=3,
                                embedding_dim=3, char_embedding_dim=2, char_units=2,
                                dropout=0.4, seed=5)
        _fill(tagger)
        values[f"tagging {head}"] = _loss(tagger, tokens, tags)
        if head == "softmax":
            values["tagging softmax training"] = _loss(tagger, tokens, tags, training=True)
    return values


def test_task_losses_are_the_pinned_ones():
    keras.utils.set_random_seed(0)
    values = _values()
    for name, value in values.items():
        assert np.isfinite(value), name
        assert value == pytest.approx(PINNED[name], rel=1e-6, abs=1e-6), f"{name}: {value!r}"


if __name__ == "__main__":  # prints the values to pin
    keras.utils.set_random_seed(0)
    for name, value in _values().items():
        print(f"    {name!r}: {value!r},")
