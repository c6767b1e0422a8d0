import subprocess
import sys


def test_keras_runs_on_tensorflow_and_matplotlibs_backend_is_left_alone():
    # One fresh Python for both (each start imports TensorFlow):
    # - Keras runs on TensorFlow whatever KERAS_BACKEND says;
    # - a notebook's matplotlib backend survives `import rnn_pipeline.workflows`: the plots
    #   draw on Figure objects and never call matplotlib.use (Keras itself imports pyplot).
    code = ("import matplotlib; matplotlib.use('svg'); import rnn_pipeline, keras, "
            "rnn_pipeline.workflows, rnn_pipeline.workflows.diagnose, "
            "rnn_pipeline.tasks.translation.report; "
            "print(keras.backend.backend(), matplotlib.get_backend())")
    env = {"KERAS_BACKEND": "jax", "PATH": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "tensorflow svg"
