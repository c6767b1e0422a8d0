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


def _column(name, values, spec):
    """A JSON list of scalars -> a tensor of the signature's dtype, checked."""
    if not isinstance(values, list):
        raise RequestError(f"Input {name!r} must be a list with one value per row. "
                           f"Received: {name}={values!r}")
    if spec.dtype == tf.string:
        def as_bytes(value):
            if isinstance(value, dict) and set(value) == {"b64"}:
                return base64.b64decode(value["b64"])
            if not isinstance(value, str):
                raise RequestError(f"Input {name!r} expects strings. Received: {value!r}")
            return value.encode("utf-8")
        return tf.constant([as_bytes(v) for v in values], tf.string)
    if spec.dtype.is_integer:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise RequestError(f"Input {name!r} expects integers ({spec.dtype.name}). "
                               f"Received: {values!r}")
    elif spec.dtype.is_floating:
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise RequestError(f"Input {name!r} expects numbers ({spec.dtype.name}). "
                               f"Received: {values!r}")
    try:
        return tf.constant(np.asarray(values, spec.dtype.as_numpy_dtype))
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
