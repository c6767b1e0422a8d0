"""TF Serving's REST request and response JSON (predict API), as pure functions.

Row format: ``{"signature_name": ..., "instances": [{input: value, ...}, ...]}``,
columnar format: ``{"inputs": {input: [values]}}``. A signature with one input may
take bare values; one with a single output answers with bare values.
"""

import base64
import json
import sys

import numpy as np
import tensorflow as tf

from rnn_pipeline.serving.errors import RequestError
from rnn_pipeline.serving.predict import (check_names, check_same_rows, checked_array,
                                          dtype_error, range_error)


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
        raise dtype_error(name, tf.string, values)
    return values.encode("utf-8")


def _leaves(values):
    """The values of nested JSON lists, in order (without recursion: JSON may nest as
    deep as its parser allows)."""
    stack = [iter([values])]
    while stack:
        for value in stack[-1]:
            if isinstance(value, list):
                stack.append(iter(value))
                break
            yield value
        else:
            stack.pop()


def _numbers(name, values, dtype):
    """JSON numbers -> a NumPy array (int64, float64, or Python integers beyond 64 bits),
    refusing a value that is not a number of ``dtype``'s kind."""
    kinds = (int,) if dtype.is_integer else (int, float)  # not bool, a subclass of int
    for value in _leaves(values):
        if type(value) not in kinds:
            raise dtype_error(name, dtype, value)
    try:
        array = np.asarray(values)
    except ValueError:
        raise RequestError(f"Input {name!r} must be a regular (non-ragged) array.") from None
    if array.dtype == object and not dtype.is_integer:  # an integer beyond 64 bits
        try:
            return array.astype(np.float64)  # checked against float32's range next
        except OverflowError:  # beyond float64's
            raise range_error(name, dtype, next(v for v in array.flat
                                                if abs(v) > sys.float_info.max)) from None
    if array.dtype == object:
        info = np.iinfo(dtype.as_numpy_dtype)
        raise range_error(name, dtype, next(v for v in array.flat
                                            if not info.min <= v <= info.max))
    return array


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
    return checked_array(name, array, spec)


def _rows_format(rows, names):
    """The row format's instances -> ({input: [one value per row]}, the names given)."""
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
    return columns, {key for row in rows for key in row}


def _columnar_format(columns, names):
    """The columnar format's inputs -> ({input: [one value per row]}, the names given)."""
    if not isinstance(columns, dict):
        columns = {names[0]: columns} if len(names) == 1 else None
    if columns is None:
        raise RequestError(f'"inputs" must map input names to lists: {", ".join(names)}.')
    return columns, set(columns)


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
        (columns, given), fmt = _rows_format(body["instances"], names), "row"
    else:
        (columns, given), fmt = _columnar_format(body["inputs"], names), "columnar"
    check_names(given, names)
    arrays = {name: _column(name, columns[name], input_specs[name]) for name in names}
    check_same_rows(arrays)
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
