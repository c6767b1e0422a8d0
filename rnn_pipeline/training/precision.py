"""``train.precision``: float32, or Keras' mixed bfloat16 (float32 variables, bfloat16
compute) while a model trains.

The policy is set on the model's layers for the fit and put back to float32 after it, so
the saved model, its evaluation and every export compute in float32. The recurrent layers
stay float32: their per-step matrices are too small to gain, and TensorFlow's fused LSTM
kernels have no bfloat16 version. On a CPU, XLA runs bfloat16 matrix products several
times slower than oneDNN does (BENCHMARKS.md, issue 38), so there a bfloat16 fit runs
without ``train.jit_compile``.
"""

import contextlib
from pathlib import Path

import keras
import tensorflow as tf

CPU_FLAGS = {"amx_bf16": "AMX (amx_bf16)", "avx512_bf16": "AVX512-BF16 (avx512_bf16)"}


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags (empty where /proc/cpuinfo cannot be read)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def bfloat16_units(flags=None, gpus=None):
    """Whether this machine has bfloat16 matrix units, and which: ``(bool, words)``.

    Args:
        flags: the CPU's flags (default: `cpu_flags`).
        gpus: the visible GPUs (default: TensorFlow's list).
    """
    gpus = tf.config.list_logical_devices("GPU") if gpus is None else gpus
    if gpus:
        return True, f"a GPU is visible ({gpus[0].name})"
    flags = cpu_flags() if flags is None else flags
    found = [words for flag, words in CPU_FLAGS.items() if flag in flags]
    if found:
        return True, f"the CPU has {' and '.join(found)}"
    return False, "no GPU is visible and the CPU has neither amx_bf16 nor avx512_bf16"


def resolve_precision(precision, log=None, flags=None, gpus=None, cpu_float32_reason=None):
    """The precision a fit uses: ``"float32"`` or ``"mixed_bfloat16"``; ``"auto"`` picks
    bfloat16 only on bfloat16 units (`bfloat16_units`) and logs which and why.

    Args:
        cpu_float32_reason: why this model trains faster in float32 on a CPU, or None
            (e.g. the adaptive head under XLA): then ``auto`` keeps float32 on a CPU.
    """
    if precision != "auto":
        return precision
    gpus = tf.config.list_logical_devices("GPU") if gpus is None else gpus
    found, why = bfloat16_units(flags, gpus)
    if found and not gpus and cpu_float32_reason:
        found, why = False, f"{why}, but {cpu_float32_reason}"
    resolved = "mixed_bfloat16" if found else "float32"
    if log is not None:
        log(f"train.precision = 'auto': {resolved}, because {why}")
    return resolved


def xla_for(precision, jit_compile, log=None):
    """``train.jit_compile`` as the fit runs it: off for bfloat16 on a CPU (logged)."""
    if jit_compile and precision == "mixed_bfloat16" and not tf.config.list_logical_devices(
            "GPU"):
        if log is not None:
            log("train.jit_compile: off for mixed_bfloat16 on a CPU (XLA's bfloat16 matrix "
                "products are slower there than oneDNN's)")
        return False
    return jit_compile


@contextlib.contextmanager
def training_precision(model, precision):
    """Sets ``precision`` ("float32" or "mixed_bfloat16") on the layers of ``model``
    that compute in it, for the ``with`` block; float32 again after it.

    Two parts stay float32 but multiply in the lower precision (their
    ``training_projection_dtype`` / ``training_product_dtype``): an LSTM layer (its states
    and recurrence; its input projection, one GEMM over the window, is bfloat16), and the
    layers a model names in ``float32_layers()`` (the language model's logits: a bfloat16
    product, then the bias added in float32; logits rounded to bfloat16 after the bias cost
    3.8% of valid perplexity after one epoch of ptb_small, BENCHMARKS.md, issue 38)."""
    if precision == "float32":
        yield
        return
    from rnn_pipeline.models.cells import LSTM

    every = list(model._flatten_layers(include_self=True))
    kept = {id(layer) for layer in getattr(model, "float32_layers", lambda: ())()}
    layers = [layer for layer in every
              if not _is_recurrent(layer) and layer.dtype_policy.name == "float32"
              and id(layer) not in kept]
    lstms = [layer for layer in every if isinstance(layer, LSTM)]
    saved = [layer.dtype_policy for layer in layers]
    for layer in layers:
        layer.dtype_policy = precision
    low = keras.DTypePolicy(precision).compute_dtype
    for layer in lstms:
        layer.training_projection_dtype = low
    model.training_product_dtype = low
    try:
        yield
    finally:
        for layer, policy in zip(layers, saved):
            layer.dtype_policy = policy
        for layer in lstms:
            layer.training_projection_dtype = None
        model.training_product_dtype = None


def _is_recurrent(layer):
    """A recurrent layer or a part of one (its cell, a Bidirectional wrapper)."""
    recurrent = (keras.layers.RNN, keras.layers.Bidirectional, keras.layers.LSTMCell,
                 keras.layers.GRUCell, keras.layers.SimpleRNNCell)
    return isinstance(layer, recurrent)
