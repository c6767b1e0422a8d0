import subprocess
import sys


def test_keras_runs_on_tensorflow_whatever_the_environment_says():
    code = "import rnn_pipeline, keras; print(keras.backend.backend())"
    env = {"KERAS_BACKEND": "jax", "PATH": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "tensorflow"


def test_importing_the_library_leaves_matplotlibs_backend_alone():
    # A notebook's backend must survive `import rnn_pipeline.workflows`: the plots draw on
    # Figure objects and never call matplotlib.use (Keras itself imports pyplot).
    code = ("import matplotlib; matplotlib.use('svg'); import rnn_pipeline.workflows, "
            "rnn_pipeline.workflows.diagnose, rnn_pipeline.runs.translation_report; "
            "print(matplotlib.get_backend())")
    env = {"PATH": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "svg"
