"""TF Serving's gRPC API for ``rnn-pipeline serve --grpc-port``: ``PredictionService``
(``Predict``, ``GetModelMetadata``) and ``ModelService.GetModelStatus``, with the protos and
stubs of ``tensorflow-serving-api``.

It serves the REST server's `ModelRepository` (the same versions, loaded once) through
the same predict path (`predict.run_predict`), so an error has the same text over both;
its status code is the one TF Serving gives: a bad request INVALID_ARGUMENT, an unknown
model or version NOT_FOUND, a full server or batch queue UNAVAILABLE, a message over
``max_request_bytes`` RESOURCE_EXHAUSTED (refused by gRPC before it is read), a fault of
the server INTERNAL."""

import socket
import sys
import threading
from concurrent import futures

import grpc
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from rnn_pipeline.errors import error_message
from rnn_pipeline.serving.errors import RequestError, ServingError
from rnn_pipeline.serving.limits import ServeLimits
from rnn_pipeline.serving.predict import (check_names, check_same_rows, checked_array,
                                          run_predict)

_CODES = {400: grpc.StatusCode.INVALID_ARGUMENT, 404: grpc.StatusCode.NOT_FOUND,
          408: grpc.StatusCode.DEADLINE_EXCEEDED, 413: grpc.StatusCode.RESOURCE_EXHAUSTED,
          503: grpc.StatusCode.UNAVAILABLE}


def tensor_array(name, tensor, max_values):
    """A request's TensorProto as a NumPy array (strings: an object array of bytes).

    Args:
        name: the input, for errors.
        tensor: its `TensorProto`.
        max_values: the most values it may hold (a TensorProto may declare a shape larger
            than the values it sends: the last value repeats).
    """
    shape = [dim.size for dim in tensor.tensor_shape.dim]
    values = 1
    for size in shape:
        values *= max(size, 0)
    if any(size < 0 for size in shape) or values > max_values:
        raise RequestError(f"Input {name!r} must have a shape of at most {max_values} values "
                           f"(serve --max-request-bytes sets it), none unknown. Received: "
                           f"shape {shape}")
    try:
        return tf.make_ndarray(tensor)
    except (TypeError, ValueError) as exc:
        raise RequestError(f"Input {name!r} must be a TensorProto whose values fit its dtype "
                           f"and shape ({exc}). Received: dtype {tensor.dtype}, shape "
                           f"{shape}"[:300]) from None


def tensor_inputs(tensors, specs, limits):
    """A PredictRequest's inputs as the signature takes them, checked as REST's are.

    Args:
        tensors: the request's {input name: `TensorProto`} map.
        specs: {input name: `tf.TensorSpec`} of the signature.
        limits: a `ServeLimits`.
    """
    names = sorted(specs)
    check_names(list(tensors), names)
    arrays = {name: checked_array(name, tensor_array(name, tensors[name],
                                                     limits.max_request_bytes), specs[name])
              for name in names}
    check_same_rows(arrays)
    return arrays


def _model(spec):
    """(name, version or None) of a `ModelSpec`."""
    if spec.version_label:
        raise RequestError(error_message("model_spec.version_label", "is not served here "
                                         "(models.config has no labels): give "
                                         "model_spec.version", spec.version_label))
    return spec.name, spec.version.value if spec.HasField("version") else None


class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer,
               model_service_pb2_grpc.ModelServiceServicer):
    """The RPCs; Classify, Regress, MultiInference and HandleReloadConfigRequest are left
    UNIMPLEMENTED, as by a server without them.

    Args:
        repository: the `ModelRepository`.
        limits: a `ServeLimits`; ``max_connections`` RPCs are served at once.
    """

    def __init__(self, repository, limits):
        self.repository, self.limits = repository, limits
        self._slots = threading.BoundedSemaphore(limits.max_connections)

    def _serve(self, context, compute):
        """``compute()``'s answer, or the RPC aborted with the error's code and text."""
        if not self._slots.acquire(blocking=False):
            context.abort(grpc.StatusCode.UNAVAILABLE,
                          f"The server is serving {self.limits.max_connections} requests, "
                          f"its limit (serve --max-connections sets it); try again.")
        try:
            return compute()
        except ServingError as exc:
            code, details = _CODES.get(exc.status, grpc.StatusCode.INTERNAL), str(exc)
        except Exception as exc:  # a bug: the server stays up, the client sees no internals
            print(f"rnn-pipeline serve: gRPC: {exc!r}", file=sys.stderr, flush=True)
            code = grpc.StatusCode.INTERNAL
            details = f"Internal error ({type(exc).__name__}); the server's log has the details"
        finally:
            self._slots.release()
        context.abort(code, details)

    def Predict(self, request, context):
        return self._serve(context, lambda: self._predict(request))

    def _predict(self, request):
        name, version = _model(request.model_spec)
        version, signature_name, outputs = run_predict(
            self.repository, name, version, request.model_spec.signature_name,
            lambda specs: tensor_inputs(request.inputs, specs, self.limits), self.limits)
        wanted = list(request.output_filter) or sorted(outputs)
        unknown = [key for key in wanted if key not in outputs]
        if unknown:
            raise RequestError(f"output_filter must name outputs of the signature: "
                               f"{', '.join(sorted(outputs))}. Received: {unknown[0]!r}")
        response = predict_pb2.PredictResponse()
        response.model_spec.name, response.model_spec.signature_name = name, signature_name
        response.model_spec.version.value = version
        for key in wanted:
            response.outputs[key].CopyFrom(tf.make_tensor_proto(outputs[key]))
        return response

    def GetModelMetadata(self, request, context):
        return self._serve(context, lambda: self._metadata(request))

    def _metadata(self, request):
        if list(request.metadata_field) != ["signature_def"]:
            raise RequestError(error_message("metadata_field", 'must be ["signature_def"], '
                                             "the metadata served",
                                             list(request.metadata_field)))
        name, version = _model(request.model_spec)
        if request.model_spec.signature_name:
            raise RequestError(error_message("model_spec.signature_name", "must be empty: "
                                             "the metadata lists every signature",
                                             request.model_spec.signature_name))
        version, signature_map = self.repository.signature_map(name, version)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = name
        response.model_spec.version.value = version
        response.metadata["signature_def"].Pack(signature_map)
        return response

    def GetModelStatus(self, request, context):
        return self._serve(context, lambda: self._status(request))

    def _status(self, request):
        name, version = _model(request.model_spec)
        response = get_model_status_pb2.GetModelStatusResponse()
        for status in self.repository.status(name, version)["model_version_status"]:
            response.model_version_status.add(
                version=int(status["version"]),
                state=get_model_status_pb2.ModelVersionStatus.State.Value(status["state"]))
        return response


def _check_free(host, port):
    """Raises the `OSError` of binding ``host:port`` (e.g. a port in use), which gRPC only
    logs."""
    if port == 0:
        return
    family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
        probe.bind(address)


def make_grpc_server(repository, host="127.0.0.1", port=8500, limits=ServeLimits()):
    """A gRPC server of TF Serving's API over ``repository``, bound but not started.

    Args:
        repository: the `ModelRepository` (the REST server's, when both serve).
        host, port: where to listen (port 0 picks a free port); an IPv6 address works too.
        limits: a `ServeLimits`: ``max_request_bytes`` bounds a message,
            ``max_connections`` the RPCs served at once.

    Returns:
        (the `grpc.Server`, its port); call ``start()``, and ``stop(grace)`` to end it.

    Raises:
        OSError: a host that does not resolve, or a port that cannot be bound.
    """
    workers = limits.max_connections + 4  # the spare threads refuse what is over the limit
    server = grpc.server(
        futures.ThreadPoolExecutor(workers, thread_name_prefix="rnn-pipeline-grpc"),
        options=[("grpc.max_receive_message_length", limits.max_request_bytes),
                 ("grpc.max_send_message_length", -1), ("grpc.so_reuseport", 0)])
    servicer = Servicer(repository, limits)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(servicer, server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(servicer, server)
    _check_free(host, port)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if not bound:
        raise OSError(f"gRPC could not listen on {address}")
    return server, bound
