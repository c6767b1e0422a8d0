"""Log-mel features in the graph: librosa's frames on a real FSDD recording, stereo, the
sample-rate check, padding, normalisation, SpecAugment and the layer's config."""

import io
import wave

import numpy as np
import pytest
import tensorflow as tf

from rnn_pipeline.tasks.speech.features import (LogMelFeatures, decode_wavs, frame_sizes,
                                                log_mel_frames, normalize_frames, spec_augment)
from rnn_pipeline.tasks.speech.wavs import read_waveform, wav_bytes

# The largest |TF - librosa| difference of natural-log mel power allowed (measured: 0.015
# on 7_jackson_32.wav): the two filterbanks differ only in TF's triangles being linear in
# mel and librosa's in Hz.
LIBROSA_TOLERANCE = 0.02


def _stereo_wav(left, right, rate=8000):
    samples = np.stack([left, right], axis=1)
    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.round(samples * 32768).astype("<i2").tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def recording(dataset):
    return dataset("fsdd")["recordings"] / "7_jackson_32.wav"


def test_log_mel_frames_match_librosa_on_a_real_recording(recording):
    librosa = pytest.importorskip("librosa")
    waveforms, lengths = decode_wavs([recording.read_bytes()])
    frames, mask = log_mel_frames(waveforms, lengths, 8000, n_mels=40, fmin=20.0)
    y, rate = read_waveform(recording)
    np.testing.assert_array_equal(waveforms.numpy()[0], y)
    window, hop, fft = frame_sizes(8000)
    assert (window, hop, fft) == (200, 80, 256)
    # librosa centres its window in the FFT frame: pad so that it covers TF's samples.
    padded = np.pad(y, (fft - window) // 2)
    power = librosa.feature.melspectrogram(
        y=padded, sr=rate, n_fft=fft, hop_length=hop, win_length=window, window="hann",
        center=False, power=2.0, n_mels=40, fmin=20.0, fmax=4000.0, htk=True, norm=None)
    expected = np.log(power.T + 1e-6)
    assert frames.shape[1] == expected.shape[0] == 1 + (len(y) - window) // hop
    assert mask.numpy().all()
    np.testing.assert_allclose(frames.numpy()[0], expected, rtol=0, atol=LIBROSA_TOLERANCE)


def test_stereo_is_mixed_down_to_mono():
    t = np.arange(800) / 8000
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 700 * t)
    waveforms, lengths = decode_wavs([_stereo_wav(left, right)])
    assert lengths.numpy().tolist() == [800]
    mono = np.round(np.stack([left, right], 1) * 32768) / 32768
    np.testing.assert_allclose(waveforms.numpy()[0], mono.mean(axis=1), atol=1e-6)


def test_a_wrong_sample_rate_fails_naming_both_rates():  # one error format, in the graph
    wav = wav_bytes(np.zeros(1600, np.float32), 16000)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"(?s)audio must have a sample rate of 8000 Hz \(resample the file\)\. "
                             r"Received: sample_rate=\W*16000"):
        LogMelFeatures(sample_rate=8000)(tf.constant([wav]))

    @tf.function
    def traced(audio):
        return decode_wavs(audio, 8000)

    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"8000 Hz \(resample the file\)\. Received: sample_rate=\] \[16000\]"):
        traced(tf.constant([wav]))


def test_padding_changes_no_real_frame(recording):
    short = recording.read_bytes()
    long = (recording.parent / "9_theo_16.wav").read_bytes()  # the longest, 2.3 s
    layer = LogMelFeatures()
    alone, alone_mask = layer(tf.constant([short]))
    batch, batch_mask = layer(tf.constant([long, short]))
    real = int(alone_mask.numpy().sum())
    assert batch_mask.numpy()[1].sum() == real and batch.shape[1] > real
    np.testing.assert_allclose(batch.numpy()[1, :real], alone.numpy()[0], atol=1e-5)
    assert not batch.numpy()[1, real:].any()


def test_normalisation_gives_mean_0_and_std_1_over_real_frames():
    rng = np.random.default_rng(0)
    frames = tf.constant(rng.normal(3.0, 5.0, (2, 30, 4)), tf.float32)
    mask = tf.sequence_mask([30, 12], 30)
    out = normalize_frames(frames, mask).numpy()
    for row, length in enumerate((30, 12)):
        np.testing.assert_allclose(out[row, :length].mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(out[row, :length].std(axis=0), 1, atol=1e-3)
        assert not out[row, length:].any()


def test_spec_augment_masks_within_real_frames_is_seeded_and_training_only():
    frames = tf.ones((3, 50, 40))
    mask = tf.sequence_mask([50, 30, 20], 50)
    masked = spec_augment(frames, mask, seed=3, frequency_width=8, time_width=0.2)
    np.testing.assert_array_equal(masked, spec_augment(frames, mask, seed=3,
                                                       frequency_width=8, time_width=0.2))
    zeros = masked.numpy() == 0
    assert zeros.any()
    bins = zeros.all(axis=1)  # whole mel bins masked
    assert (bins.sum(axis=1) <= 16).all()
    times = zeros.all(axis=2)
    assert not times[1, 30:].any() and not times[2, 20:].any()  # only real frames
    layer = LogMelFeatures(spec_augment={"time_width": 0.2}, seed=1)
    wav = wav_bytes(np.random.default_rng(0).normal(0, 0.1, 8000), 8000)
    plain, _ = layer(tf.constant([wav]))
    np.testing.assert_array_equal(plain, layer(tf.constant([wav]), training=False)[0])
    augmented, _ = layer(tf.constant([wav]), training=True)
    assert (augmented.numpy() == 0).sum() > (plain.numpy() == 0).sum()


def test_the_layer_round_trips_its_config():
    layer = LogMelFeatures(sample_rate=16000, n_mels=64, fmax=7600.0,
                           spec_augment={"time_masks": 1}, seed=5, name="features")
    clone = LogMelFeatures.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.options["n_mels"] == 64 and clone.spec_augment == {"time_masks": 1}


def test_a_model_over_wav_bytes_saves_and_loads_with_the_layer(recording, tmp_path):
    import keras

    audio = keras.Input(shape=(), dtype="string", name="audio")
    frames, mask = LogMelFeatures(spec_augment={}, name="features")(audio)
    model = keras.Model(audio, [frames, mask])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    batch = tf.constant([recording.read_bytes()])
    for before, after in zip(model(batch), loaded(batch)):
        np.testing.assert_array_equal(before, after)
    assert loaded.get_layer("features").spec_augment == {}
