"""Starting TensorFlow for a command without its C++ start-up chatter."""

import os


def import_tensorflow_quietly():
    """Imports TensorFlow with file descriptor 2 sent to /dev/null, so that the
    absl/CUDA-probe lines TensorFlow prints at start-up do not bury the command's own
    output. Python exceptions still show: stderr is restored before they propagate.
    Set ``RNN_PIPELINE_TF_LOGS=1`` to see those lines.
    """
    if os.environ.get("RNN_PIPELINE_TF_LOGS") == "1":
        return
    # 3: C++ errors too, such as oneDNN's "supports DT_INT64 only on platforms with AVX-512"
    # on CPUs that have it; a real fault still raises a Python exception, which shows.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe logs here, not at import
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
