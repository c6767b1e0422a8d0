"""The speech model: CTC loss against a brute-force sum over alignments, greedy and beam
decoding, masking and subsampling, both heads memorise a tiny set, config and .keras
round trips, one-line errors."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.speech.model import (LabelErrorRate, SpeechRecognizer, ctc_decode,
                                             ctc_nll, subsample_frames)

DIGITS = ["zero", "one", "two"]
SMALL = {"units": 6, "num_layers": 1, "seed": 1}


def _collapse(path, blank):
    merged = [s for i, s in enumerate(path) if i == 0 or s != path[i - 1]]
    return [s for s in merged if s != blank]


def _brute_force_nll(logits, label):
    """-log of the sum, over every frame path that collapses to ``label``, of the
    product of the frames' softmax probabilities."""
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)  # (time, classes)
    blank = probs.shape[1] - 1
    total = sum(np.prod([probs[t, s] for t, s in enumerate(path)])
                for path in itertools.product(range(probs.shape[1]), repeat=len(probs))
                if _collapse(list(path), blank) == label)
    return -np.log(total)


def test_ctc_loss_is_the_sum_over_all_alignments():
    # 2 symbols + blank, 3 real frames (2 in the last row), a 4th frame of padding
    logits = np.random.default_rng(0).normal(size=(4, 4, 3)).astype(np.float32)
    labels = np.array([[0, 1], [0, 0], [1, -1], [1, 1]], np.int32)
    lengths = np.array([3, 3, 2, 3], np.int32)
    expected = [_brute_force_nll(logits[i, :lengths[i]], [s for s in row if s >= 0])
                for i, row in enumerate(labels)]
    assert expected[1] == pytest.approx(  # [0, 0] has one alignment: 0, blank, 0
        -np.log(np.prod(tf.nn.softmax(logits[1]).numpy()[[0, 1, 2], [0, 2, 0]])), rel=1e-5)
    np.testing.assert_allclose(ctc_nll(labels, logits, lengths).numpy(), expected, rtol=1e-5)


def _one_hot_log_probs(paths, classes=4):
    """Sharp log-probabilities whose best symbol per frame is ``paths``."""
    return np.log(np.where(np.eye(classes)[np.array(paths)] > 0, 0.97, 0.01)).astype(np.float32)


@pytest.mark.parametrize("decoder", ["greedy", "beam"])
def test_decoding_merges_repeats_and_removes_blanks(decoder):
    b = 3  # the blank: symbols 0, 1, 2
    log_probs = _one_hot_log_probs([[0, 0, b, 0, 1, 1, b], [b, 1, 1, b, b, 2, 2],
                                    [b, b, b, b, b, b, b]])
    decoded = ctc_decode(log_probs, [7, 5, 7], decoder, beam_width=4).numpy()
    assert decoded.tolist() == [[0, 0, 1], [1, -1, -1], [-1, -1, -1]]  # padding frames unread


def test_subsampling_concatenates_neighbours_and_zeroes_padding():
    frames = np.arange(1, 11, dtype=np.float32).reshape(1, 5, 2)
    out, mask = subsample_frames(frames, np.array([[1, 1, 1, 0, 0]], bool), 2)
    assert out.numpy().tolist() == [[[1, 2, 3, 4], [5, 6, 0, 0], [0, 0, 0, 0]]]
    assert mask.numpy().tolist() == [[True, True, False]]


def _inputs(rows, width, garbage=100.0):
    """Frames padded to ``width`` with garbage, and their lengths."""
    frames = garbage * np.ones((len(rows), width, rows[0].shape[1]), np.float32)
    for i, row in enumerate(rows):
        frames[i, :len(row)] = row
    return {"frames": frames, "lengths": np.array([len(r) for r in rows], np.int32)}


@pytest.mark.parametrize("subsample", [1, 2])
@pytest.mark.parametrize("head", ["classify", "ctc"])
def test_padding_frames_change_nothing(head, subsample):
    model = SpeechRecognizer(3, DIGITS, head=head, subsample=subsample, pooling="mean_max",
                             projection_dim=4, **SMALL)
    rng = np.random.default_rng(1)
    rows = [rng.normal(size=(n, 3)).astype(np.float32) for n in (5, 3)]
    short, long = _inputs(rows, 5, garbage=0.0), _inputs(rows, 9)
    as_mask = {"frames": long["frames"], "mask": np.arange(9)[None] < long["lengths"][:, None]}
    for x in (long, as_mask):
        if head == "classify":
            np.testing.assert_allclose(model(x).numpy(), model(short).numpy(), atol=1e-6)
            continue
        real = model.frame_mask(short).numpy()
        assert real.sum(1).tolist() == [-(-5 // subsample), -(-3 // subsample)]
        frames = real.shape[1]
        np.testing.assert_allclose(model(x).numpy()[:, :frames][real],
                                   model(short).numpy()[real], atol=1e-5)
        for decoder in ("greedy", "beam"):
            np.testing.assert_array_equal(model.decode(x, decoder), model.decode(short, decoder))
        aligned = model.alignment(x).numpy()
        np.testing.assert_array_equal(aligned[:, :frames], model.alignment(short).numpy())
        assert (aligned[:, frames:] == -1).all() and (aligned[~model.frame_mask(x)] == -1).all()


def _classify_set(rng):
    """Class k: 3 to 6 frames with mel bin k raised."""
    labels = np.arange(12) % 3
    rows = [0.3 * rng.normal(size=(3 + i % 4, 4)).astype(np.float32) + np.eye(4)[k]
            for i, k in enumerate(labels)]
    return _inputs(rows, 6), labels


def _ctc_set():
    """Each digit: two frames of its mel bin, then a silent frame (bin 3)."""
    transcripts = [[0], [1, 2], [2, 2, 0], [1, 0], [0, 1, 2], [2], [1, 1], [0, 2]]
    rows = [np.concatenate([np.eye(4)[[k, k, 3]] for k in t]).astype(np.float32)
            for t in transcripts]
    labels = -np.ones((len(transcripts), 3), np.int32)
    for i, t in enumerate(transcripts):
        labels[i, :len(t)] = t
    return _inputs(rows, 9), labels


def _fit(model, x, y, steps, learning_rate):
    """``steps`` full-batch Adam steps, in one epoch."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    data = tf.data.Dataset.from_tensors((x, y)).repeat()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0,
              shuffle=False)


def test_classify_memorises_a_tiny_set():
    keras.utils.set_random_seed(0)
    x, y = _classify_set(np.random.default_rng(0))
    model = SpeechRecognizer(4, DIGITS, head="classify", **SMALL)
    _fit(model, x, y, 25, 0.03)
    scores = model.evaluate(x, y, verbose=0, return_dict=True)
    assert scores["accuracy"] == 1.0 and scores["loss"] < 0.2, scores
    ids, probabilities = model.predict_labels(x)
    assert ids.numpy().tolist() == y.tolist() and probabilities.shape == (12, 3)
    assert model.ids_to_text(ids[:3]).numpy().tolist() == [b"zero", b"one", b"two"]


def test_ctc_memorises_a_tiny_set_and_decodes_it_in_the_graph():
    keras.utils.set_random_seed(0)
    x, y = _ctc_set()
    model = SpeechRecognizer(4, DIGITS, head="ctc", **SMALL)
    _fit(model, x, y, 40, 0.05)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["error_rate"] == 0.0
    for decoder in ("greedy", "beam"):
        decoded = tf.function(lambda x, d=decoder: model.decode(x, d))(x).numpy()
        np.testing.assert_array_equal(decoded, y)
    assert model.ids_to_text(y[2:4]).numpy().tolist() == [b"two two zero", b"one zero"]
    aligned = model.alignment(x).numpy()[0]  # [0]: frames "zero zero silence"
    assert aligned.tolist()[:3] in ([0, 0, 3], [0, 3, 3], [3, 0, 3], [0, 0, 0])
    assert aligned.tolist()[3:] == [-1] * 6


def test_label_error_rate_is_edits_over_true_labels():
    metric = LabelErrorRate()
    metric.update_state([[0, 1, 2], [1, -1, -1]], [[0, 2, -1], [1, 1, -1]])  # 1 + 1 edits
    metric.update_state([[2, -1]], [[-1, -1]])  # 1 deletion
    assert float(metric.result()) == pytest.approx(3 / 5)


@pytest.mark.parametrize("head", ["classify", "ctc"])
def test_config_and_keras_file_round_trip(head, tmp_path):
    model = SpeechRecognizer(3, DIGITS, head=head, subsample=2, projection_dim=4,
                             pooling="mean_max", dropout=0.1, cell="gru", **SMALL)
    config = model.get_config()
    assert SpeechRecognizer.from_config(config).get_config() == config
    model.compile()
    model.optimizer.build(model.trainable_variables)  # as after training
    x = _inputs([np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)] * 2, 6)
    model.save(tmp_path / "s.keras")
    loaded = keras.models.load_model(tmp_path / "s.keras")
    assert type(loaded) is SpeechRecognizer and loaded.get_config() == config
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)
    if head == "ctc":
        np.testing.assert_array_equal(loaded.decode(x, "beam"), model.decode(x, "beam"))
    assert [m.name for m in loaded.metrics if m.name != "loss"] in (
        [], ["compile_metrics"])  # compiled with the head's own defaults


@pytest.mark.parametrize("key, value, rule", [
    ("head", "rnnt", "must be one of: 'classify', 'ctc'"),
    ("pooling", "sum", "must be one of: 'max', 'mean', 'mean_max'"),
    ("labels", ["zero"], "must hold at least 2 with head='classify'"),
    ("labels", ["a", "a"], "must be distinct non-empty strings"),
    ("labels", ["a", ""], "must be distinct non-empty strings"),
    ("num_mels", 0, "must be an integer of at least 1"),
    ("subsample", 0, "must be an integer of at least 1"),
    ("beam_width", 0, "must be an integer of at least 1"),
    ("dropout", 1.5, "must be in [0, 1)"),
    ("units", 0, "must be at least 1"),
])
def test_bad_arguments_are_one_line_naming_them(key, value, rule):
    options = {"num_mels": 3, "labels": DIGITS, key: value}
    with pytest.raises(PipelineError) as info:
        SpeechRecognizer(**options)
    message = str(info.value)
    assert message.startswith(f"{key} {rule}") and message.endswith(
        f"Received: {key}={value!r}") and "\n" not in message


def test_head_specific_calls_and_a_given_loss_are_refused():
    model = SpeechRecognizer(3, DIGITS, **SMALL)
    with pytest.raises(PipelineError, match=r"^head must be 'ctc' for decode\(\)"):
        model.decode(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(PipelineError, match=r"^loss must be unset"):
        model.compile(loss="mse")
    with pytest.raises(PipelineError, match=r"^decoder must be one of: 'beam', 'greedy'"):
        ctc_decode(np.zeros((1, 2, 4), np.float32), [2], "viterbi")


def test_a_saved_model_decodes_any_batch_and_length_in_its_graph(tmp_path):
    model = SpeechRecognizer(3, DIGITS, head="ctc", subsample=2, **SMALL)
    signature = [tf.TensorSpec((None, None, 3), tf.float32), tf.TensorSpec((None,), tf.int32)]

    def transcribe(frames, lengths):
        x = {"frames": frames, "lengths": lengths}
        return {"greedy": model.ids_to_text(model.decode(x)),
                "beam": model.ids_to_text(model.decode(x, "beam")),
                "alignment": model.alignment(x)}

    module = tf.Module()
    module.model = model
    module.transcribe = tf.function(transcribe, input_signature=signature)
    tf.saved_model.save(module, str(tmp_path / "export"))
    loaded = tf.saved_model.load(str(tmp_path / "export"))
    for batch, time in ((1, 5), (3, 8)):
        frames = np.linspace(-2, 2, batch * time * 3, dtype=np.float32).reshape(batch, time, 3)
        lengths = np.full(batch, time, np.int32)
        got, want = loaded.transcribe(frames, lengths), transcribe(frames, lengths)
        for key in want:
            np.testing.assert_array_equal(got[key].numpy(), want[key].numpy())
        assert got["greedy"].shape == (batch,) and got["alignment"].shape == (
            batch, -(-time // 2))


def test_a_speech_pipeline_that_sets_one_train_key_keeps_the_speech_defaults():
    from rnn_pipeline.config import loader

    config = loader.loads('task = "speech"\n[speech]\ndataset = "fsdd"\n[train]\nepochs = 3\n')
    train = config.train
    assert (train.epochs, train.batch_size, train.global_clipnorm, train.schedule) == \
        (3, 32, 5.0, "cosine")
    assert config.model.pooling == "mean_max"
