import subprocess
import sys


def test_keras_runs_on_tensorflow_whatever_the_environment_says():
    code = "import rnn_pipeline, keras; print(keras.backend.backend())"
    env = {"KERAS_BACKEND": "jax", "PATH": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "tensorflow"
