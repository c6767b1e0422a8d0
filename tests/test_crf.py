"""The linear-chain CRF head: log Z, Viterbi and the likelihood against brute force over
every tag path, IOB2 constraints, gradients, tf.function/SavedModel, the config."""

import itertools
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.tagging.crf import (DISALLOWED_SCORE, LinearChainCRF,
                                            bio_allowed_transitions, crf_loss)

BIO = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
LENGTHS = [4, 2, 1, 0]


def _random_case(num_tags, seed, scale=1.0, **allowed):
    """A built layer with random non-zero weights, random potentials and a mask."""
    rng = np.random.default_rng(seed)
    layer = LinearChainCRF(num_tags, **allowed)
    layer.build()
    layer.set_weights([rng.normal(0, 1, (num_tags, num_tags)).astype(np.float32),
                       rng.normal(0, 1, num_tags).astype(np.float32),
                       rng.normal(0, 1, num_tags).astype(np.float32)])
    potentials = rng.normal(0, scale, (len(LENGTHS), max(LENGTHS), num_tags))
    mask = np.arange(max(LENGTHS))[None, :] < np.array(LENGTHS)[:, None]
    return layer, potentials.astype(np.float32), mask


def _weights(layer):
    """The layer's (transitions, start, end) in numpy."""
    return layer.get_weights()


def _score(path, potentials, transitions, start, end):
    if not path:
        return 0.0
    score = start[path[0]] + end[path[-1]] + sum(potentials[t, y] for t, y in enumerate(path))
    return score + sum(transitions[a, b] for a, b in zip(path, path[1:]))


def _all_paths(num_tags, length, legal=None):
    paths = itertools.product(range(num_tags), repeat=length)
    return [list(p) for p in paths if legal is None or legal(list(p))]


def _brute_force(potentials, length, weights, legal=None):
    """(log Z, best path, best score) of one row by enumerating every path."""
    paths = _all_paths(potentials.shape[-1], length, legal)
    scores = np.array([_score(p, potentials, *weights) for p in paths], np.float64)
    best = int(np.argmax(scores))
    log_z = np.log(np.sum(np.exp(scores - scores.max()))) + scores.max()
    return log_z, paths[best], scores[best]


def _is_legal_bio(path, names=BIO):
    allowed = bio_allowed_transitions(names)
    return (not path or allowed["allowed_start"][path[0]]) and all(
        allowed["allowed_transitions"][a][b] for a, b in zip(path, path[1:]))


def test_log_partition_and_viterbi_match_brute_force():
    layer, potentials, mask = _random_case(3, seed=0)
    weights = _weights(layer)
    log_z = layer.log_partition(potentials, mask).numpy()
    tags, best = (t.numpy() for t in layer.viterbi(potentials, mask))
    assert tags.dtype == np.int32 and tags.shape == mask.shape
    np.testing.assert_array_equal(layer(potentials, mask=mask).numpy(), tags)
    for row, length in enumerate(LENGTHS):
        want_z, want_path, want_best = _brute_force(potentials[row], length, weights)
        np.testing.assert_allclose(log_z[row], want_z, atol=1e-5)
        assert tags[row].tolist() == want_path + [0] * (max(LENGTHS) - length)
        np.testing.assert_allclose(best[row], want_best, atol=1e-5)
    assert log_z[3] == 0.0 and best[3] == 0.0 and not tags[3].any()  # a row of length 0


def test_no_mask_means_every_token_counts():
    layer, potentials, _ = _random_case(3, seed=5)
    log_z = layer.log_partition(potentials[:1]).numpy()
    np.testing.assert_allclose(log_z[0], _brute_force(potentials[0], 4, _weights(layer))[0],
                               atol=1e-5)


def test_log_likelihood_is_score_minus_log_z_and_normalised():
    layer, potentials, mask = _random_case(3, seed=1)
    weights = _weights(layer)
    rng = np.random.default_rng(2)
    tags = rng.integers(0, 3, mask.shape)
    ll = layer.log_likelihood(potentials, tags, mask).numpy()
    for row, length in enumerate(LENGTHS):
        want = (_score(tags[row, :length].tolist(), potentials[row], *weights)
                - _brute_force(potentials[row], length, weights)[0])
        np.testing.assert_allclose(ll[row], want, atol=1e-5)
    for row, length in enumerate(LENGTHS[:3]):  # every path of a row, as one batch
        paths = np.array(_all_paths(3, length))
        paths = np.pad(paths, [(0, 0), (0, 4 - length)], constant_values=2)  # padding
        batch = np.repeat(potentials[row:row + 1], len(paths), axis=0)
        row_mask = np.repeat(mask[row:row + 1], len(paths), axis=0)
        probs = np.exp(layer.log_likelihood(batch, paths, row_mask).numpy().astype(np.float64))
        np.testing.assert_allclose(probs.sum(), 1.0, atol=1e-5)


def test_bio_constraints_are_never_broken_and_log_z_ignores_illegal_paths():
    names = BIO
    layer, potentials, mask = _random_case(5, seed=3, scale=3.0,
                                           **bio_allowed_transitions(names))
    # rows that strongly prefer I-PER at the start, O -> I-PER and B-LOC -> I-PER
    prefer = [[2, 0, 2, 3], [2, 2, 0, 0], [4, 0, 0, 0]]
    for row, path in enumerate(prefer):
        potentials[row, np.arange(4), path] += 50.0
    tags = layer.viterbi(potentials, mask)[0].numpy()
    raw = _weights(layer)
    log_z = layer.log_partition(potentials, mask).numpy()
    for row, length in enumerate(LENGTHS):
        path = tags[row, :length].tolist()
        assert _is_legal_bio(path), path
        want_z, want_path, _ = _brute_force(potentials[row], length, raw, _is_legal_bio)
        assert path == want_path
        np.testing.assert_allclose(log_z[row], want_z, atol=1e-3)
    assert tags[0, 0] != 2 and tags[2, 0] != 4  # not started with I-
    assert DISALLOWED_SCORE == -1e4


def test_bio_allowed_transitions_table_and_bad_names():
    allowed = bio_allowed_transitions(BIO)
    table = np.array(allowed["allowed_transitions"])
    assert table[:, 2].tolist() == [False, True, True, False, False]  # into I-PER
    assert table[:, 4].tolist() == [False, False, False, True, True]  # into I-LOC
    assert table[:, [0, 1, 3]].all()
    assert allowed["allowed_start"] == [True, True, False, True, False]
    assert allowed["allowed_end"] == [True] * 5
    with pytest.raises(PipelineError) as error:
        bio_allowed_transitions(["O", "PER"])
    assert str(error.value) == ("tags must be IOB2 names (O, B-TYPE, I-TYPE) for "
                                "tagging.constrain_bio. Received: tags='PER'")
    with pytest.raises(PipelineError):
        bio_allowed_transitions(["O", "B-"])


def test_gradients_are_finite_and_sgd_raises_the_likelihood():
    layer, potentials, mask = _random_case(5, seed=4, **bio_allowed_transitions(BIO))
    tags = np.array([[1, 2, 0, 3], [3, 4, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    unary = tf.Variable(potentials)
    variables = [unary] + layer.trainable_variables

    def loss_and_grads():
        with tf.GradientTape() as tape:
            loss = crf_loss(layer, unary, tags, mask)
        return loss, tape.gradient(loss, variables)

    first, grads = loss_and_grads()
    assert len(grads) == 4 and all(np.isfinite(g.numpy()).all() for g in grads)
    assert np.abs(grads[1].numpy()).sum() > 0  # the transitions do get a gradient
    for _ in range(5):
        loss, grads = loss_and_grads()
        for variable, grad in zip(variables, grads):
            variable.assign_sub(0.5 * grad)
    assert float(loss_and_grads()[0]) < float(first) - 0.1


def test_runs_in_a_tf_function_with_unknown_batch_and_time():
    layer, _, _ = _random_case(3, seed=6)
    traces = []

    @tf.function(input_signature=[tf.TensorSpec((None, None, 3), tf.float32),
                                  tf.TensorSpec((None, None), tf.bool),
                                  tf.TensorSpec((None, None), tf.int32)])
    def run(potentials, mask, tags):
        traces.append(1)
        return layer(potentials, mask=mask), layer.log_likelihood(potentials, tags, mask)

    rng = np.random.default_rng(7)
    for batch, time in [(2, 5), (3, 2)]:
        potentials = rng.normal(0, 1, (batch, time, 3)).astype(np.float32)
        mask = np.arange(time)[None, :] < rng.integers(0, time + 1, (batch, 1))
        tags = rng.integers(0, 3, (batch, time)).astype(np.int32)
        decoded, ll = run(potentials, mask, tags)
        np.testing.assert_array_equal(decoded.numpy(), layer.viterbi(potentials, mask)[0])
        np.testing.assert_allclose(ll.numpy(), layer.log_likelihood(potentials, tags, mask),
                                   atol=1e-5)
    assert len(traces) == 1


def test_exports_in_a_saved_model(tmp_path):
    layer, potentials, mask = _random_case(5, seed=8, **bio_allowed_transitions(BIO))
    module = tf.Module()
    module.crf = layer
    module.decode = tf.function(
        lambda p, m: layer(p, mask=m),
        input_signature=[tf.TensorSpec((None, None, 5), tf.float32),
                         tf.TensorSpec((None, None), tf.bool)])
    tf.saved_model.save(module, str(tmp_path / "crf"))
    loaded = tf.saved_model.load(str(tmp_path / "crf"))
    np.testing.assert_array_equal(loaded.decode(potentials, mask).numpy(),
                                  layer(potentials, mask=mask).numpy())


def test_config_round_trip_and_keras_file(tmp_path):
    layer, potentials, mask = _random_case(5, seed=9, scale=3.0,
                                           **bio_allowed_transitions(BIO))
    config = json.loads(json.dumps(layer.get_config()))
    assert config["num_tags"] == 5
    assert config["allowed_transitions"] == bio_allowed_transitions(BIO)["allowed_transitions"]
    copy = LinearChainCRF.from_config(config)
    copy.build()
    copy.set_weights(layer.get_weights())
    np.testing.assert_array_equal(copy(potentials, mask=mask).numpy(),
                                  layer(potentials, mask=mask).numpy())

    features = keras.Input((None, 4))
    real = keras.Input((None,), dtype="bool")
    crf = LinearChainCRF(5, **bio_allowed_transitions(BIO),
                         initializer=keras.initializers.RandomNormal(seed=1))
    model = keras.Model([features, real], crf(keras.layers.Dense(5)(features), mask=real))
    x = np.random.default_rng(10).normal(0, 2, (4, 4, 4)).astype(np.float32)
    model.save(tmp_path / "tagger.keras")
    loaded = keras.saving.load_model(tmp_path / "tagger.keras")
    want = model([x, mask]).numpy()
    np.testing.assert_array_equal(loaded([x, mask]).numpy(), want)
    assert not want[~mask].any()


@pytest.mark.parametrize("num_tags", [0, -2, 2.5, True])
def test_bad_num_tags(num_tags):
    with pytest.raises(PipelineError) as error:
        LinearChainCRF(num_tags)
    assert str(error.value) == f"num_tags must be at least 1. Received: num_tags={num_tags!r}"


def test_bad_allowed_transitions():
    with pytest.raises(PipelineError, match="must be a 2 x 2 list of lists of booleans"):
        LinearChainCRF(2, allowed_transitions=[[True, False]])
    with pytest.raises(PipelineError, match="allowed_start must be a list of 2 booleans"):
        LinearChainCRF(2, allowed_start=[1, 0])
