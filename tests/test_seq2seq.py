"""The encoder-decoder translator: masking, decoding, overfitting, config round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_pipeline.config import TextConfig
from rnn_pipeline.tasks.translation.data import BOS_ID, EOS_ID, PAD_ID, fit_side, pair_batches
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.translation.decode import DecoderStepper, decode_ids, translate_text
from rnn_pipeline.tasks.translation.model import Seq2SeqTranslator
from tests_support import PAIRS

SOURCE = np.array([[5, 6, 7, EOS_ID, PAD_ID], [8, 9, 10, 4, EOS_ID]], np.int32)
TARGET_IN = np.array([[BOS_ID, 5, 6], [BOS_ID, 7, 8]], np.int32)
VARIANTS = [("lstm", True, "concat", "additive"), ("gru", True, "sum", "dot"),
            ("simple_rnn", False, "concat", "none")]


def tiny(cell="lstm", bidirectional=True, merge="concat", attention="additive", seed=1):
    model = Seq2SeqTranslator(11, 13, pad_id=PAD_ID, cell=cell, embedding_dim=4, units=5,
                              num_layers=2, bidirectional=bidirectional, merge=merge,
                              attention=attention)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 1.0, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def logits(model, source, target_in):
    return model({"source_ids": source, "target_ids": target_in}, training=False).numpy()


@pytest.mark.parametrize("cell, bidirectional, merge, attention", VARIANTS)
def test_source_padding_changes_nothing(cell, bidirectional, merge, attention):
    model = tiny(cell, bidirectional, merge, attention)
    padded = np.pad(SOURCE, [(0, 0), (0, 3)], constant_values=PAD_ID)
    np.testing.assert_allclose(logits(model, padded, TARGET_IN), logits(model, SOURCE, TARGET_IN),
                               atol=1e-5)


def test_target_padding_costs_nothing_in_the_loss():
    model = tiny()
    model.compile()
    targets, weights = np.array([[5, 6, EOS_ID], [7, 8, EOS_ID]]), np.ones([2, 3], np.float32)
    loss = model.evaluate({"source_ids": SOURCE, "target_ids": TARGET_IN}, targets, verbose=0,
                          sample_weight=weights, return_dict=True)
    padded_in = np.pad(TARGET_IN, [(0, 0), (0, 2)], constant_values=PAD_ID)
    padded_targets = np.pad(targets, [(0, 0), (0, 2)], constant_values=PAD_ID)
    padded = model.evaluate({"source_ids": SOURCE, "target_ids": padded_in}, padded_targets,
                            sample_weight=np.pad(weights, [(0, 0), (0, 2)]), verbose=0,
                            return_dict=True)
    assert padded["perplexity"] == pytest.approx(loss["perplexity"], rel=1e-5)


@pytest.mark.parametrize("cell, bidirectional, merge, attention", VARIANTS)
def test_stepper_reproduces_the_teacher_forced_pass(cell, bidirectional, merge, attention):
    model = tiny(cell, bidirectional, merge, attention)
    memory, mask, state = model.encode(tf.constant(SOURCE), training=False)
    stepper = DecoderStepper(model, memory, mask)
    full = logits(model, SOURCE, TARGET_IN)  # (batch, T, vocab)
    for t in range(TARGET_IN.shape[1]):
        step_logits, state = stepper.step(tf.constant(TARGET_IN[:, t]), state)
        np.testing.assert_allclose(step_logits.numpy(), full[:, t], atol=1e-5)


@pytest.mark.parametrize("cell, bidirectional, merge, attention", VARIANTS)
def test_one_beam_equals_greedy_and_greedy_is_stepwise_argmax(cell, bidirectional, merge,
                                                              attention):
    model = tiny(cell, bidirectional, merge, attention, seed=3)
    greedy = decode_ids(model, tf.constant(SOURCE), 6, BOS_ID, EOS_ID, num_beams=1)
    beam = decode_ids(model, tf.constant(SOURCE), 6, BOS_ID, EOS_ID, num_beams=1,
                      length_penalty=0.0)
    assert greedy.to_list() == beam.to_list()
    beam_one = decode_ids(model, tf.constant(SOURCE), 6, BOS_ID, EOS_ID, num_beams=2)
    assert beam_one.shape[0] == 2
    for row, tokens in enumerate(greedy.to_list()):  # argmax of the full pass, one at a time
        prefix = [BOS_ID]
        for _ in range(6):
            nxt = int(logits(model, SOURCE[row:row + 1], np.array([prefix], np.int32))[0, -1]
                      .argmax())
            if nxt == EOS_ID:
                break
            prefix.append(nxt)
        assert tokens == prefix[1:]


def test_beam_search_with_one_beam_is_greedy_through_the_beam_code():
    model = tiny("gru", True, "sum", "dot", seed=4)
    from rnn_pipeline.generation.beam import beam_search
    from rnn_pipeline.tasks.translation.decode import greedy_search

    memory, mask, state = model.encode(tf.constant(SOURCE), training=False)
    stepper = DecoderStepper(model, memory, mask)
    first, state = stepper.step(tf.fill([2], BOS_ID), state)
    greedy = greedy_search(stepper, first, state, 5)
    beam = beam_search(stepper.repeated(1), first, state, 5, 1, EOS_ID, stop_at_eos=False)
    np.testing.assert_array_equal(beam.numpy(), greedy.numpy())


def test_config_and_keras_file_round_trip(tmp_path):
    model = tiny("gru", True, "concat", "dot")
    assert Seq2SeqTranslator.from_config(model.get_config()).get_config() == model.get_config()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    np.testing.assert_allclose(logits(loaded, SOURCE, TARGET_IN), logits(model, SOURCE, TARGET_IN),
                               atol=1e-6)


@pytest.mark.parametrize("key, value, message", [
    ("attention", "luong", "attention must be one of: 'additive', 'dot', 'none'. "
                           "Received: attention='luong'"),
    ("merge", "mean", "merge must be one of: 'concat', 'sum'. Received: merge='mean'"),
    ("num_layers", 0, "num_layers must be at least 1. Received: num_layers=0"),
])
def test_unknown_choices_list_the_valid_ones(key, value, message):
    with pytest.raises(PipelineError) as info:
        Seq2SeqTranslator(5, 5, pad_id=PAD_ID, units=2, embedding_dim=2, **{key: value})
    assert str(info.value) == message


@pytest.mark.slow  # 11 s on 2 cores: the slow suite runs it
def test_a_tiny_model_memorises_twenty_pairs_and_translates_them_back():
    config = TextConfig(normalization="none", tokenizer="whitespace")
    source_pre, source_vocab = fit_side([s for s, _ in PAIRS], config)
    target_pre, target_vocab = fit_side([t for _, t in PAIRS], config)
    assert (source_vocab.itos[PAD_ID], target_vocab.itos[BOS_ID]) == ("<pad>", "<bos>")
    keras.utils.set_random_seed(0)
    model = Seq2SeqTranslator(len(source_vocab), len(target_vocab), pad_id=PAD_ID, cell="gru",
                              embedding_dim=16, units=32, bidirectional=True,
                              attention="additive", source_preprocessor=source_pre,
                              target_preprocessor=target_pre)
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    # Cached: the two batches are tokenized once (re-tokenizing costs ~1 s per epoch here).
    batches = pair_batches(PAIRS, source_pre, target_pre, batch_size=10, shuffle_seed=0)
    model.fit(batches.cache(), epochs=80, verbose=0, shuffle=False)
    sources = tf.constant([s for s, _ in PAIRS])
    for beams in (1, 3):
        out = translate_text(model, sources, max_tokens=6, num_beams=beams,
                             length_penalty=0.6).numpy()
        assert [t.decode() for t in out] == [t for _, t in PAIRS]


def test_the_attentional_vector_is_linear_so_it_cannot_saturate():
    """Regression: Luong's tanh(W [context; h]) saturated within 50 Adam steps on Tatoeba
    (BENCHMARKS.md). With all-ones weights and bias 3, [context; h] = 0.5 everywhere gives
    10 * 0.5 + 3 = 8 in every unit (tanh would give 1.0), and the logits follow from it."""
    model = tiny("gru", True, "concat", "additive")
    model.attentional.kernel.assign(np.ones(model.attentional.kernel.shape, np.float32))
    model.attentional.bias.assign(np.full(model.attentional.bias.shape, 3.0, np.float32))
    hidden = np.full((1, 2, 5), 0.5, np.float32)  # (batch, T, units)
    memory = np.full((1, 3, 5), 0.5, np.float32)  # (batch, S, units): context = 0.5 each
    logits = model.readout(hidden, memory, np.ones((1, 3), bool))  # (batch, T, vocab)
    expected = model.output_projection(np.full((1, 2, 5), 8.0, np.float32))
    np.testing.assert_allclose(logits.numpy(), expected.numpy(), rtol=1e-5)


def test_the_concat_bridge_is_linear_so_it_cannot_saturate():
    """Regression: a tanh bridge saturated within 25 Adam steps on Tatoeba and cut the
    encoder off (BENCHMARKS.md). With all-ones bridge weights the initial state is the plain
    sum of the forward and backward states, values above 1 included."""
    model = tiny("gru", True, "concat", "none")
    for bridge in model.state_bridges:
        bridge.kernel.assign(np.ones(bridge.kernel.shape, np.float32))
        bridge.bias.assign(np.full(bridge.bias.shape, 3.0, np.float32))
    x = model.source_embedding(SOURCE)
    _, forward, backward = model.encoder_layers[0](x, mask=SOURCE != PAD_ID)
    expected = (np.concatenate([forward, backward], -1).sum(-1, keepdims=True) + 3.0
                ) * np.ones((1, 5))
    _, _, states = model.encode(SOURCE)
    np.testing.assert_allclose(states[0].numpy(), expected, rtol=1e-5)
    assert np.abs(expected).max() > 1.0
