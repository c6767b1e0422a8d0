"""The TF Serving view of a trained `SpeechRecognizer`: WAV bytes in, a label (with the
class probabilities) or a transcript out. Decoding the WAV and the log-mel frames happen
in the graph, so a client sends the file as it is (over REST as ``{"b64": "..."}``)."""

import tensorflow as tf

from rnn_pipeline.tasks.speech.batches import frame_function


class SpeechServing(tf.Module):
    """Signature ``serving_default``: ``audio`` [batch] string (whole WAV files, 16-bit PCM
    at the run's sample rate) -> ``label`` [batch] string and ``probabilities`` [batch,
    classes] float32 (a ``classify`` run), or ``transcript`` [batch] string (``ctc``: the
    words joined by spaces).

    Args:
        model: a trained `SpeechRecognizer`.
        speech: the run's ``[speech]`` section (sample rate and frames).
        decoder: ``ctc``: "greedy" or "beam".
        warmup_audio: WAV bytes of a real recording for the warm-up request, or None (a
            tone of half a second).
    """

    def __init__(self, model, speech, decoder="greedy", warmup_audio=None):
        super().__init__(name="speech_serving")
        # The tf.Variables themselves, not Keras' wrappers: TF1-style loaders (TF Serving,
        # saved_model_cli) then restore exactly what the graphs read.
        self.model_variables = [variable.value for variable in model.variables]
        self._model = [model]  # a list hides the Keras model from tracking
        self._frames = frame_function(speech)
        self._decoder = decoder
        self._sample_rate = speech.sample_rate
        self._warmup = warmup_audio
        self.recognize = tf.function(self._recognize, input_signature=[
            tf.TensorSpec([None], tf.string, name="audio")])

    def _recognize(self, audio):
        model = self._model[0]
        frames, mask = self._frames(audio)  # (batch, time, n_mels), (batch, time)
        x = {"frames": frames, "mask": mask}
        if model.head == "classify":
            ids, probabilities = model.predict_labels(x)
            return {"label": model.ids_to_text(ids), "probabilities": probabilities}
        return {"transcript": model.ids_to_text(model.decode(x, self._decoder))}

    def signatures(self):
        return {"serving_default": self.recognize}

    def warmup_inputs(self):
        audio = self._warmup
        if audio is None:
            import numpy as np

            from rnn_pipeline.tasks.speech.wavs import wav_bytes

            t = np.arange(self._sample_rate // 2) / self._sample_rate
            audio = wav_bytes(0.3 * np.sin(2 * np.pi * 440 * t), self._sample_rate)
        return {"serving_default": {"audio": [audio]}}
