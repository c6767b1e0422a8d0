"""rnn-pipeline: recurrent networks from raw text to a trained, servable model.

Keras 3 always runs on the TensorFlow backend here, whatever ``KERAS_BACKEND``
or ``~/.keras/keras.json`` say: the text pipeline and the exports are
TensorFlow graphs.
"""

import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

if keras.backend.backend() != "tensorflow":  # keras was imported earlier with another backend
    raise ImportError(
        "rnn_pipeline needs Keras on the TensorFlow backend, but Keras was already imported "
        f"with backend={keras.backend.backend()!r}. Import rnn_pipeline before keras, or set "
        "KERAS_BACKEND=tensorflow."
    )

__version__ = "0.1.0"
