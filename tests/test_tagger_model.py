"""The sequence tagger: in-graph lookups match the vocabularies, padding changes nothing,
both heads memorise a tiny set, IOB2 constraints, config/.keras round trips, SavedModel."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.tagging.config import TaggingModelConfig, TaggingSection
from rnn_pipeline.tasks.tagging.data import TaggingVocabularies, tagging_dataset
from rnn_pipeline.tasks.tagging.model import SequenceTagger, build_tagger
from rnn_pipeline.tasks.tagging.sentences import TaggedSentence

SENTENCES = [  # 6 sentences, 3 tags: memorised by both heads
    (["John", "lives", "in", "Paris"], ["B-X", "O", "O", "B-X"]),
    (["Mary", "Ann", "works"], ["B-X", "I-X", "O"]),
    (["the", "cat", "sleeps", "in", "New", "York"], ["O", "O", "O", "O", "B-X", "I-X"]),
    (["Ann", "sleeps"], ["B-X", "O"]),
    (["in", "York", "the", "cat", "works"], ["O", "B-X", "O", "O", "O"]),
    (["Renée", "lives"], ["B-X", "O"]),
]
SMALL = {"units": 12, "num_layers": 1, "dropout": 0.0, "embedding_dim": 8,
         "char_embedding_dim": 4, "char_units": 4}


def _sentences():
    return [TaggedSentence(list(tokens), list(tags)) for tokens, tags in SENTENCES]


def _vocabularies(lowercase=False):
    return TaggingVocabularies.fit(_sentences(), TaggingSection(lowercase=lowercase))


def _tagger(head="softmax", vocabularies=None, **overrides):
    v = vocabularies or _vocabularies()
    options = {**SMALL, "lowercase": v.lowercase, **overrides}
    return SequenceTagger(v.words, v.characters, v.tags, head=head, **options)


def _padded(rows):
    width = max(len(r) for r in rows)
    return tf.constant([list(r) + [""] * (width - len(r)) for r in rows])


@pytest.mark.parametrize("lowercase", [False, True])
def test_lookups_match_the_vocabularies(lowercase):
    v = _vocabularies(lowercase)
    model = _tagger(vocabularies=v)
    rows = [["John", "JOHN", "john", "zebra", "Renée", ""], ["", "", "", "", "", ""]]
    expected = [[v.words.index(v.word(t)) if v.word(t) in v.words else 1 for t in rows[0]],
                [0] * 6]
    expected[0][-1] = 0  # padding
    words = tf.strings.lower(_padded(rows), encoding="utf-8") if lowercase else _padded(rows)
    assert model.word_lookup(words).numpy().tolist() == expected
    assert expected[0][3] == 1 and expected[0][0] >= 2  # unknown and known both seen
    chars = tf.constant([["J", "é", "ß", ""]])  # known, known (non-ASCII), unknown, padding
    assert model.char_lookup(chars).numpy().tolist() == [
        [v.characters.index("J"), v.characters.index("é"), 1, 0]]


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_padding_changes_nothing_for_the_real_tokens(head):
    model = _tagger(head, num_layers=2)  # bidirectional by default, character features on
    short, long = ["Ann", "lives", "in"], ["the", "cat", "sleeps", "in", "New", "York", "x"]
    alone = model(_padded([short])).numpy()
    batched = model(_padded([short, long])).numpy()
    np.testing.assert_allclose(batched[0, :3], alone[0], atol=1e-5)
    tags = model.predict_tags(_padded([short, long])).numpy()
    assert tags[0, :3].tolist() == model.predict_tags(_padded([short])).numpy()[0].tolist()
    assert tags[0, 3:].tolist() == [0] * 4  # padding decodes to 0
    if head == "softmax":
        np.testing.assert_allclose(np.exp(alone).sum(-1), 1.0, atol=1e-5)  # log-probs


def test_word_dropout_reads_words_as_unk_in_training_only():
    model = _tagger(char_embedding_dim=0, word_dropout=0.999)  # no character features
    tokens = _padded([["Ann", "lives", "in"], ["the", "cat", ""]])
    unknown = _padded([["zz", "zz", "zz"], ["zz", "zz", ""]])  # every real word <unk>
    np.testing.assert_allclose(model._scores(tokens, training=True).numpy(),
                               model._scores(unknown, training=False).numpy(), atol=1e-6)
    assert not np.allclose(model._scores(tokens, training=False).numpy(),
                           model._scores(unknown, training=False).numpy(), atol=1e-3)
    with pytest.raises(PipelineError, match=r"word_dropout must be in \[0, 1\)"):
        _tagger(word_dropout=1.0)


def _train(model, steps=60):
    v = _vocabularies()
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    data = tagging_dataset(_sentences(), v, batch_size=len(SENTENCES))
    history = model.fit(data.repeat(steps), epochs=1, verbose=0, shuffle=False)
    return v, history


@pytest.mark.parametrize("head", [  # the CRF (10 s) with -m slow; fitted_tagging has one
    "softmax", pytest.param("crf", marks=pytest.mark.slow)])
def test_both_heads_memorise_a_tiny_set(head):
    # Words only: the character features would double the graph traced for the one fit
    # (~3 s a head) and the words alone tell the tags apart. Both heads train with them in
    # test_tagging_workflow (CRF on NER, softmax on POS).
    model = _tagger(head, char_embedding_dim=0)
    v, history = _train(model)
    assert {"loss", "accuracy", "grad_norm"} <= set(history.history)
    tokens = _padded([t for t, _ in SENTENCES])
    tags = model.predict_tags({"tokens": tokens}).numpy()
    for row, (words, gold) in zip(tags, SENTENCES):
        assert [v.tags[i] for i in row[:len(words)]] == gold
    data = tagging_dataset(_sentences(), v, batch_size=4)
    scores = model.evaluate(data, return_dict=True, verbose=0)
    assert scores["accuracy"] == 1.0


def test_constrained_crf_never_puts_i_after_o():
    v = _vocabularies()
    model = _tagger("crf", vocabularies=v)
    inside, outside = v.tags.index("I-X"), v.tags.index("O")
    bias = np.zeros(len(v.tags), np.float32)
    bias[inside], bias[outside], bias[v.tags.index("B-X")] = 5.0, 4.0, 3.5  # argmax: all I-X
    kernel, _ = model.tag_projection.get_weights()
    model.tag_projection.set_weights([np.zeros_like(kernel), bias])
    scores = model(_padded([t for t, _ in SENTENCES])).numpy()
    assert (scores.argmax(-1) == inside).all()
    tags = model.predict_tags(_padded([t for t, _ in SENTENCES])).numpy()
    for row, (words, _) in zip(tags, SENTENCES):
        names = [v.tags[i] for i in row[:len(words)]]
        assert names[0] != "I-X"
        assert all(not (a == "O" and b == "I-X") for a, b in zip(names, names[1:]))
        assert names == ["B-X"] + ["I-X"] * (len(words) - 1)  # the best allowed path
    pos = SequenceTagger(v.words, v.characters, ["DET", "NOUN"], head="crf", **SMALL)
    assert not pos.constrained  # POS tags are not IOB2: no constraint


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_config_and_keras_file_round_trips(head, tmp_path):
    model = _tagger(head, lowercase=True, init_scale=0.1)
    tokens = _padded([["John", "lives"], ["the", "cat", "zebra"]])
    config = json.loads(json.dumps(model.get_config()))
    copy = SequenceTagger.from_config(config)
    copy.set_weights(model.get_weights())
    np.testing.assert_array_equal(copy(tokens).numpy(), model(tokens).numpy())
    model.compile()
    path = tmp_path / "tagger.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, SequenceTagger) and loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded(tokens).numpy(), model(tokens).numpy())
    np.testing.assert_array_equal(loaded.predict_tags(tokens).numpy(),
                                  model.predict_tags(tokens).numpy())


def test_saved_model_export(tmp_path):
    model = _tagger("crf")
    module = tf.Module()
    module.model = model
    module.tags = tf.function(lambda tokens: model.predict_tags(tokens),
                              input_signature=[tf.TensorSpec([None, None], tf.string)])
    tf.saved_model.save(module, str(tmp_path / "saved"))
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    tokens = _padded([["Renée", "lives", "in", "Köln"], ["Ann", "", "", ""]])
    np.testing.assert_array_equal(loaded.tags(tokens).numpy(),
                                  model.predict_tags(tokens).numpy())
    assert loaded.tags(tf.constant([[""]])).numpy().tolist() == [[0]]


def test_build_tagger_reports_config_keys():
    v = _vocabularies()
    model = build_tagger(TaggingModelConfig(head="crf", **SMALL), v, TaggingSection(), seed=3)
    assert model.head == "crf" and model.constrained and model.task_config["seed"] == 3
    bad = TaggingModelConfig(**SMALL)
    bad.units = 0
    with pytest.raises(PipelineError, match="model.units"):
        build_tagger(bad, v, TaggingSection())
    with pytest.raises(PipelineError, match="loss"):
        model.compile(loss="mse")


def test_a_tagger_builds_after_a_functional_task_model():
    # Keras puts Functional among the bases of a functional model's classes: the tagger
    # (a subclassed model) must not share them, or it breaks once a language model exists.
    from tests_support import tiny_lm

    tiny_lm()
    model = _tagger()
    assert not isinstance(model, keras.src.models.functional.Functional)
    assert model.predict_tags(tf.constant([["the", "cat"]])).shape == (1, 2)
