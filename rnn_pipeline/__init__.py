"""rnn-pipeline: recurrent networks from raw text to a trained, servable model.

Keras 3 always runs on the TensorFlow backend here, whatever ``KERAS_BACKEND``
or ``~/.keras/keras.json`` say: the text pipeline and the exports are
TensorFlow graphs. TensorFlow's C++ start-up log lines are kept off the screen
(`rnn_pipeline.startup`; ``RNN_PIPELINE_TF_LOGS=1`` shows them).
"""

import os
import sys

if "keras" in sys.modules and sys.modules["keras"].backend.backend() != "tensorflow":
    raise ImportError(
        "rnn_pipeline needs Keras on the TensorFlow backend, but Keras was already imported "
        f"with backend={sys.modules['keras'].backend.backend()!r}. Import rnn_pipeline before "
        "keras, or set KERAS_BACKEND=tensorflow."
    )
os.environ["KERAS_BACKEND"] = "tensorflow"

from rnn_pipeline.startup import install_quiet_imports  # noqa: E402

install_quiet_imports()  # TensorFlow's C++ start-up lines stay off the screen

__version__ = "0.1.0"
