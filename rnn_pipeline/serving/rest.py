"""TF Serving's REST request and response JSON (predict API), as pure functions.

Row format: ``{"signature_name": ..., "instances": [{input: value, ...}, ...]}``,
columnar format: ``{"inputs": {input: [values]}}``. A signature with one input may
take bare values; one with a single output answers with bare values.
"""

import base64
import json

import numpy as np
import tensorflow as tf

from rnn_pipeline.errors import error_message
from rnn_pipeline.serving.errors import RequestError


def parse_json(body):
    try:
        return json.loads(body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(f"JSON Parse error: {exc}") from None
    except RecursionError:
        raise RequestError("JSON Parse error: nested too deeply") from None


def _strings(name, values):
    """Nested lists of JSON strings (or {"b64": ...}) -> nested lists of bytes."""
    if isinstance(values, list):
        return [_strings(name, v) for v in values]
    if isinstance(values, dict) and set(values) == {"b64"}:
        try:
            return base64.b64decode(values["b64"], validate=True)
        except (TypeError, ValueError):
            raise RequestError(f"Input {name!r} has a {{\"b64\": ...}} value that is not "
                               f"base64. Received: {values!r}"[:300]) from None
    if not isinstance(values, str):
        raise RequestError(f"Input {name!r} expects strings. Received: {values!r}"[:300])
    return values.encode("utf-8")


def _first(array, outside):
    """The first element of ``array`` where the bool array ``outside`` is True."""
    return array.flat[int(np.argmax(outside))]


def _numbers(name, values, dtype):
    """JSON numbers -> a NumPy array of ``dtype`` (a `tf.DType`), refusing what the cast
    would change: an integer outside the type's range (it would wrap around) or a finite
    number that float32 cannot hold (it would become infinite)."""
    try:
        array = np.asarray(values)
    except ValueError:
        raise RequestError(f"Input {name!r} must be a regular (non-ragged) array.") from None
    target = dtype.as_numpy_dtype
    info = np.iinfo(target) if dtype.is_integer else np.finfo(target)
    if dtype.is_integer and array.dtype == object and all(
            type(value) is int for value in array.flat):  # an integer beyond 64 bits
        outside = np.vectorize(lambda v: not info.min <= v <= info.max, otypes=[bool])(array)
        raise RequestError(error_message(name, f"must be in [{info.min}, {info.max}] "
                                         f"({dtype.name})", _first(array, outside)))
    allowed = "iu" if dtype.is_integer else "iuf"
    if array.dtype == bool or array.dtype.kind not in allowed:
        kind = "integers" if dtype.is_integer else "numbers"
        raise RequestError(f"Input {name!r} expects {kind} ({dtype.name}). "
                           f"Received: {values!r}"[:300])
    if dtype.is_integer:
        outside = (array < info.min) | (array > info.max)
        if outside.any():
            raise RequestError(error_message(name, f"must be in [{info.min}, {info.max}] "
                                             f"({dtype.name})", int(_first(array, outside))))
        return array.astype(target)
    with np.errstate(over="ignore"):  # an overflow is refused just below
        cast = array.astype(target)
    outside = np.isfinite(array) & ~np.isfinite(cast)
    if outside.any():
        raise RequestError(error_message(name, f"must be within {dtype.name}'s range "
                                         f"(±{float(info.max):.4g})",
                                         float(_first(array, outside))))
    return cast


def _column(name, values, spec):
    """JSON values, one per row -> a NumPy array of the signature's dtype and rank, checked."""
    if not isinstance(values, list):
        raise RequestError(f"Input {name!r} must be a list with one value per row. "
                           f"Received: {name}={values!r}"[:300])
    if spec.dtype == tf.string:
        strings = _strings(name, values)
        try:
            array = np.asarray(strings, dtype=object)
        except ValueError:
            raise RequestError(f"Input {name!r} must be a regular (non-ragged) array.") from None
    else:
        array = _numbers(name, values, spec.dtype)
    expected = spec.shape
    if array.ndim != expected.rank or any(
            want is not None and want != got for want, got in zip(expected.as_list(), array.shape)):
        shape = ["batch" if d is None else d for d in expected.as_list()]
        raise RequestError(f"Input {name!r} must have shape {shape}. Received: shape "
                           f"{list(array.shape)}")
    return array


def _rows_format(rows, names):
    """The row format's instances -> {input: [one value per row]}."""
    if not isinstance(rows, list) or not rows:
        raise RequestError('"instances" must be a non-empty list.')
    if len(names) == 1 and not all(isinstance(r, dict) for r in rows):
        rows = [{names[0]: r} for r in rows]
    columns = {}
    for name in names:
        missing = [i for i, row in enumerate(rows) if not isinstance(row, dict) or name not in row]
        if missing:
            raise RequestError(f"Missing input {name!r} in instance {missing[0]}. "
                               f"The signature's inputs: {', '.join(names)}.")
        columns[name] = [row[name] for row in rows]
    extra = sorted({key for row in rows for key in row} - set(names))
    return columns, extra


def _columnar_format(columns, names):
    """The columnar format's inputs -> {input: [one value per row]}."""
    if not isinstance(columns, dict):
        columns = {names[0]: columns} if len(names) == 1 else None
    if columns is None:
        raise RequestError(f'"inputs" must map input names to lists: {", ".join(names)}.')
    missing = [name for name in names if name not in columns]
    if missing:
        raise RequestError(f"Missing input {missing[0]!r}. The signature's inputs: "
                           f"{', '.join(names)}.")
    return columns, sorted(set(columns) - set(names))


def _same_rows(arrays):
    """Every input has as many rows as the first (the columnar format can differ)."""
    (first, rows), *others = [(name, len(array)) for name, array in arrays.items()]
    for name, count in others:
        if count != rows:
            raise RequestError(f"inputs {first} and {name} must have the same batch size. "
                               f"Received: {rows} and {count} rows")


def request_inputs(body, input_specs):
    """The request's inputs as NumPy arrays, keyed like ``input_specs``.

    Args:
        body: the parsed JSON request.
        input_specs: {input name: `tf.TensorSpec`} of the signature.

    Returns:
        (inputs dict, "row" or "columnar").
    """
    if not isinstance(body, dict) or ("instances" in body) == ("inputs" in body):
        raise RequestError('The request must have exactly one of "instances" (row format) '
                           'or "inputs" (columnar format).')
    names = sorted(input_specs)
    if "instances" in body:
        (columns, extra), fmt = _rows_format(body["instances"], names), "row"
    else:
        (columns, extra), fmt = _columnar_format(body["inputs"], names), "columnar"
    if extra:
        raise RequestError(f"Unknown input {extra[0]!r}. The signature's inputs: "
                           f"{', '.join(names)}.")
    arrays = {name: _column(name, columns[name], input_specs[name]) for name in names}
    _same_rows(arrays)
    return arrays, fmt


def _jsonable(array):
    if array.dtype.kind in "SO":
        return np.vectorize(lambda b: b.decode("utf-8", errors="replace"),
                            otypes=[object])(array).tolist() if array.size else array.tolist()
    return array.tolist()


def response_body(outputs, fmt):
    """TF Serving's ``predictions`` (row) or ``outputs`` (columnar) JSON.

    Args:
        outputs: {output name: NumPy array}.
        fmt: the request's format, "row" or "columnar".
    """
    values = {name: _jsonable(np.asarray(array)) for name, array in outputs.items()}
    if fmt == "columnar":
        return {"outputs": next(iter(values.values())) if len(values) == 1 else values}
    names = sorted(values)
    rows = len(values[names[0]])
    if len(names) == 1:
        return {"predictions": values[names[0]]}
    return {"predictions": [{name: values[name][i] for name in names} for i in range(rows)]}
