"""TF Serving's REST request and response JSON (predict API), as pure functions.

Row format: ``{"signature_name": ..., "instances": [{input: value, ...}, ...]}``,
columnar format: ``{"inputs": {input: [values]}}``. A signature with one input may
take bare values; one with a single output answers with bare values.
"""

import base64
import json

import numpy as np
import tensorflow as tf


class RequestError(ValueError):
    """A client mistake: HTTP 400 with ``{"error": message}``."""


def parse_json(body):
    try:
        return json.loads(body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(f"JSON Parse error: {exc}") from None


def _strings(name, values):
    """Nested lists of JSON strings (or {"b64": ...}) -> nested lists of bytes."""
    if isinstance(values, list):
        return [_strings(name, v) for v in values]
    if isinstance(values, dict) and set(values) == {"b64"}:
        return base64.b64decode(values["b64"])
    if not isinstance(values, str):
        raise RequestError(f"Input {name!r} expects strings. Received: {values!r}")
    return values.encode("utf-8")


def _column(name, values, spec):
    """JSON values, one per row -> a tensor of the signature's dtype and rank, checked."""
    if not isinstance(values, list):
        raise RequestError(f"Input {name!r} must be a list with one value per row. "
                           f"Received: {name}={values!r}")
    if spec.dtype == tf.string:
        array = np.asarray(_strings(name, values), dtype=object)
    else:
        try:
            array = np.asarray(values)
        except ValueError:
            raise RequestError(f"Input {name!r} must be a regular (non-ragged) array.") from None
        allowed = "iu" if spec.dtype.is_integer else "iuf"
        if array.dtype == bool or array.dtype.kind not in allowed:
            kind = "integers" if spec.dtype.is_integer else "numbers"
            raise RequestError(f"Input {name!r} expects {kind} ({spec.dtype.name}). "
                               f"Received: {values!r}"[:300])
    expected = spec.shape
    if array.ndim != expected.rank or any(
            want is not None and want != got for want, got in zip(expected.as_list(), array.shape)):
        shape = ["batch" if d is None else d for d in expected.as_list()]
        raise RequestError(f"Input {name!r} must have shape {shape}. Received: shape "
                           f"{list(array.shape)}")
    if spec.dtype == tf.string:
        return tf.constant(array.tolist() if array.size else [], tf.string)
    try:
        return tf.constant(array.astype(spec.dtype.as_numpy_dtype))
    except (OverflowError, ValueError) as exc:
        raise RequestError(f"Input {name!r}: {exc}") from None


def request_inputs(body, input_specs):
    """The request's inputs as tensors, keyed like ``input_specs``.

    Returns:
        (inputs dict, "row" or "columnar").
    """
    if not isinstance(body, dict) or ("instances" in body) == ("inputs" in body):
        raise RequestError('The request must have exactly one of "instances" (row format) '
                           'or "inputs" (columnar format).')
    names = sorted(input_specs)
    if "instances" in body:
        rows = body["instances"]
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
        fmt = "row"
    else:
        columns = body["inputs"]
        if not isinstance(columns, dict):
            columns = {names[0]: columns} if len(names) == 1 else None
        if columns is None:
            raise RequestError(f'"inputs" must map input names to lists: {", ".join(names)}.')
        missing = [name for name in names if name not in columns]
        if missing:
            raise RequestError(f"Missing input {missing[0]!r}. The signature's inputs: "
                               f"{', '.join(names)}.")
        extra = sorted(set(columns) - set(names))
        fmt = "columnar"
    if extra:
        raise RequestError(f"Unknown input {extra[0]!r}. The signature's inputs: "
                           f"{', '.join(names)}.")
    return {name: _column(name, columns[name], input_specs[name]) for name in names}, fmt


def _jsonable(array):
    if array.dtype.kind in "SO":
        return np.vectorize(lambda b: b.decode("utf-8", errors="replace"),
                            otypes=[object])(array).tolist() if array.size else array.tolist()
    return array.tolist()


def response_body(outputs, fmt):
    """TF Serving's ``predictions`` (row) or ``outputs`` (columnar) JSON."""
    values = {name: _jsonable(tensor.numpy()) for name, tensor in outputs.items()}
    if fmt == "columnar":
        return {"outputs": next(iter(values.values())) if len(values) == 1 else values}
    names = sorted(values)
    rows = len(values[names[0]])
    if len(names) == 1:
        return {"predictions": values[names[0]]}
    return {"predictions": [{name: values[name][i] for name in names} for i in range(rows)]}
