"""The predict path that REST and gRPC share, so that both say the same thing about a
request: resolve the version, find the signature by name ("serving_default" when none is
given), check each input against the signature's spec (its name, dtype, range and shape),
check the request's work against the server's limits, and run the signature.

REST turns JSON into NumPy arrays and gRPC turns TensorProtos into them; from there on
the checks and their texts are these."""

import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import error_message
from rnn_pipeline.serving.errors import RequestError
from rnn_pipeline.serving.limits import check_work

DEFAULT_SIGNATURE = "serving_default"


def run_predict(repository, name, version, signature_name, read_inputs, limits):
    """Runs one predict request.

    Args:
        repository: a `ModelRepository`.
        name, version: the model, and its version (None: the latest).
        signature_name: the signature ("" or None: "serving_default").
        read_inputs: {input name: `tf.TensorSpec`} -> {input name: NumPy array}, checked
            (`check_names`, `checked_array`, `check_same_rows`).
        limits: the `ServeLimits` the request's rows and words must keep.

    Returns:
        (the version that ran, the signature's name, {output name: NumPy array}).
    """
    version = repository.resolve(name, version)
    signature_name = signature_name or DEFAULT_SIGNATURE
    signature = repository.servable(name, version).signature(signature_name)
    inputs = read_inputs(signature.inputs)
    check_work(inputs, limits)
    return version, signature_name, signature(inputs)


def check_names(given, names):
    """Refuses a request whose inputs are not the signature's: a missing one first, then
    one the signature does not have.

    Args:
        given: the request's input names.
        names: the signature's input names, sorted.
    """
    missing = [name for name in names if name not in given]
    if missing:
        raise RequestError(f"Missing input {missing[0]!r}. The signature's inputs: "
                           f"{', '.join(names)}.")
    extra = sorted(set(given) - set(names))
    if extra:
        raise RequestError(f"Unknown input {extra[0]!r}. The signature's inputs: "
                           f"{', '.join(names)}.")


def _shown(value):
    """A request's value as the errors show it: bytes as text, NumPy scalars as Python's."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value.item() if isinstance(value, np.generic) else value


def dtype_error(name, dtype, value):
    """The error for an input of the wrong type.

    Args:
        name: the input.
        dtype: the signature's `tf.DType` for it.
        value: the first value that is not of that type.
    """
    if dtype == tf.string:
        kind = "strings"
    else:
        kind = f"{'integers' if dtype.is_integer else 'numbers'} ({dtype.name})"
    return RequestError(f"Input {name!r} expects {kind}. Received: {_shown(value)!r}"[:300])


def _first(array, outside):
    """The first element of ``array`` where the bool array ``outside`` is True."""
    return array.flat[int(np.argmax(outside))]


def range_error(name, dtype, value):
    """The error for a number outside ``dtype``'s range: an integer that a cast would wrap
    around, or a finite number that float32 cannot hold (it would become infinite)."""
    if dtype.is_integer:
        info = np.iinfo(dtype.as_numpy_dtype)
        rule = f"must be in [{info.min}, {info.max}] ({dtype.name})"
    else:
        largest = float(np.finfo(dtype.as_numpy_dtype).max)
        rule = f"must be within {dtype.name}'s range (±{largest:.4g})"
    return RequestError(error_message(name, rule, value))


def _cast_numbers(name, array, dtype):
    """A numeric array cast to ``dtype``, refusing what the cast would change: an integer
    outside the type's range or a finite number that float32 cannot hold (it would become
    infinite)."""
    if array.dtype == bool or array.dtype.kind not in ("iu" if dtype.is_integer else "iuf"):
        raise dtype_error(name, dtype, array.flat[0] if array.size else [])
    target = dtype.as_numpy_dtype
    if dtype.is_integer:
        info = np.iinfo(target)
        outside = (array < info.min) | (array > info.max)
        if outside.any():
            raise range_error(name, dtype, int(_first(array, outside)))
        return array.astype(target)
    with np.errstate(over="ignore"):  # an overflow is refused just below
        cast = array.astype(target)
    outside = np.isfinite(array) & ~np.isfinite(cast)
    if outside.any():
        raise range_error(name, dtype, float(_first(array, outside)))
    return cast


def checked_array(name, array, spec):
    """One input as the signature takes it: of its dtype (numbers cast when no value
    changes) and of its rank and fixed dimensions.

    Args:
        name: the input.
        array: its NumPy array (strings as an object array of bytes).
        spec: the signature's `tf.TensorSpec` for it.
    """
    if spec.dtype == tf.string:
        if array.dtype.kind not in "OS":
            raise dtype_error(name, spec.dtype, array.flat[0] if array.size else [])
        array = array.astype(object)
    else:
        array = _cast_numbers(name, array, spec.dtype)
    expected = spec.shape
    if expected.rank is not None and not expected.is_compatible_with(array.shape):
        shape = ["batch" if d is None else d for d in expected.as_list()]
        raise RequestError(f"Input {name!r} must have shape {shape}. Received: shape "
                           f"{list(array.shape)}")
    return array


def check_same_rows(arrays):
    """Every input has as many rows as the first (the columnar format can differ)."""
    (first, rows), *others = [(name, len(array)) for name, array in arrays.items()]
    for name, count in others:
        if count != rows:
            raise RequestError(f"inputs {first} and {name} must have the same batch size. "
                               f"Received: {rows} and {count} rows")
