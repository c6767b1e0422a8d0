"""The models under an export base, loaded on first use, as TF Serving finds and runs them:
each version in a TF1 `Session` (the loader TF Serving uses), whose threads are shared by
every version and outnumber the requests served at once, so that long requests never
hold up a short one."""

import re
import sys
import threading
from pathlib import Path

import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the text ops, as TF Serving links them in)
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from rnn_pipeline.export.graph_checks import read_saved_model
from rnn_pipeline.export.layout import versions
from rnn_pipeline.export.warmup import WARMUP_FILE
from rnn_pipeline.serving.batching import Batcher
from rnn_pipeline.serving.errors import RequestError, ServingError

# A graph assertion built by `export.request_checks`: "[<rule>. Received: <name>=] [<value>]".
_CHECKED = re.compile(r"assertion failed: \[(?P<rule>[^\n]*?Received: [^\n\]]*=)\] "
                      r"\[(?P<value>[^\n\]]*)\]")
# Any other assertion of an export: its message is the first bracketed text.
_ASSERTED = re.compile(r"assertion failed: \[(.*?)\](?: \[|$)", re.MULTILINE)


def _first_line(exc):
    """``Type: the first line of its message``."""
    text = (getattr(exc, "message", None) or str(exc)).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class NotFound(ServingError, LookupError):
    """An unknown model or version: HTTP 404."""

    status = 404


class ServerFault(ServingError):
    """A failure that is not the request's: HTTP 500, without TensorFlow's text (the
    server's stderr has it)."""


def request_error(exc, where):
    """The error a client sees for a TensorFlow error raised by running a signature: an
    export's own check of an input, in its words (400), or a `ServerFault` naming only
    ``where``, with TensorFlow's text on the server's stderr.

    Args:
        exc: a `tf.errors.OpError`.
        where: e.g. "signature 'score' of tiny/2".
    """
    message = getattr(exc, "message", str(exc))
    checked = _CHECKED.search(message)
    if checked:
        return RequestError(checked["rule"] + checked["value"])
    asserted = _ASSERTED.search(message)
    if asserted:
        return RequestError(asserted.group(1))
    print(f"rnn-pipeline serve: {where} failed: {message}", file=sys.stderr, flush=True)
    return ServerFault(f"{where} failed ({type(exc).__name__}); the server's log has the "
                       f"details")


class Signature:
    """One signature of a loaded version.

    Args:
        session: the version's `tf.compat.v1.Session`.
        signature_def: its `SignatureDef` proto.
        where: e.g. "signature 'score' of tiny/2", for errors.
        batcher: a `Batcher` that merges concurrent calls, or None.
    """

    def __init__(self, session, signature_def, where, batcher=None):
        self._session, self.where, self._batcher = session, where, batcher
        self.inputs = {key: tf.TensorSpec(
            None if info.tensor_shape.unknown_rank else
            [None if dim.size < 0 else dim.size for dim in info.tensor_shape.dim],
            tf.as_dtype(info.dtype), key) for key, info in signature_def.inputs.items()}
        self._feeds = {key: info.name for key, info in signature_def.inputs.items()}
        self._fetches = {key: info.name for key, info in signature_def.outputs.items()}

    def __call__(self, inputs):
        """{input: NumPy array} -> {output: NumPy array}, through the batcher if any."""
        if self._batcher is not None:
            return self._batcher.run(self, inputs)
        return self.run(inputs)

    def run(self, inputs):
        """One Session call: {input: NumPy array} -> {output: NumPy array}."""
        try:
            return self._session.run(self._fetches, {self._feeds[key]: value
                                                     for key, value in inputs.items()})
        except tf.errors.OpError as exc:
            raise request_error(exc, self.where) from None


class Servable:
    """A loaded version: its session and callable signatures.

    Args:
        path: the version folder.
        config: the `ConfigProto` of its session.
        label: "<name>/<version>".
        batcher: the signatures' `Batcher`, or None.
    """

    def __init__(self, path, config, label, batcher=None):
        from tensorflow.python.util import deprecation

        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph, config=config)
        with self.graph.as_default(), deprecation.silence():
            meta_graph = tf.compat.v1.saved_model.loader.load(
                self.session, [tf.saved_model.SERVING], str(path))
        self.signatures = {key: Signature(self.session, signature,
                                          f"signature {key!r} of {label}", batcher)
                           for key, signature in meta_graph.signature_def.items()
                           if not key.startswith("__")}
        self._warm_up(Path(path) / "assets.extra" / WARMUP_FILE)

    def _warm_up(self, path):
        """Replays the export's warm-up requests, as TF Serving does when it loads a
        version: each signature's first run (graph optimisation) happens now, not during
        a client's request."""
        from tensorflow_serving.apis import prediction_log_pb2

        if not path.is_file():
            return
        for record in tf.data.TFRecordDataset(str(path)):
            request = prediction_log_pb2.PredictionLog.FromString(
                record.numpy()).predict_log.request
            signature = self.signatures.get(request.model_spec.signature_name)
            if signature is not None:  # run alone: a batcher would hold it for others
                signature.run({name: tf.make_ndarray(tensor)
                           for name, tensor in request.inputs.items()})

    def signature(self, name):
        """The signature ``name``, or a 400 naming the available ones."""
        if name not in self.signatures:
            raise RequestError(f'Serving signature name: "{name}" not found in signature '
                               f'def. Available: {", ".join(sorted(self.signatures))}.')
        return self.signatures[name]


class ModelRepository:
    """``<base>/<name>/<version>/`` folders; the latest version serves by default. Each
    version is loaded once, on its first request; loading one version does not hold up
    requests to the others.

    Args:
        base: the export base folder.
        threads: the sessions' shared pool of threads; give it more threads than the
            requests served at once (a long request occupies one thread throughout).
        batching: `BatchingParameters`: concurrent calls of a signature are merged
            (`Batcher`, in ``batcher``); None: each request runs alone.
    """

    def __init__(self, base, threads=68, batching=None):
        self.base = Path(base)
        self.batcher = Batcher(batching) if batching is not None else None
        self._loaded = {}
        self._loading = {}  # (name, version) -> its lock, held while it loads
        self._lock = threading.Lock()
        self._config = tf.compat.v1.ConfigProto()
        self._config.session_inter_op_thread_pool.add(
            num_threads=threads, global_name=f"rnn_pipeline_serve_{threads}")

    def versions(self, name):
        if "/" in name or name.startswith("."):
            return []
        return versions(self.base / name)

    def resolve(self, name, version=None):
        """The version to serve (the latest when None); NotFound in TF Serving's words."""
        available = self.versions(name)
        if version is None:
            if not available:
                raise NotFound(f"Servable not found for request: Latest({name})")
            return available[-1]
        if version not in available:
            raise NotFound(f"Servable not found for request: Specific({name}, {version})")
        return version

    def servable(self, name, version, quiet=False):
        """The loaded version (a `Servable`), loaded now if it is not yet.

        Args:
            name, version: the model and version.
            quiet: a failure is not logged (the caller reports it).
        """
        key = (name, version)
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:
            if key not in self._loaded:
                try:
                    servable = Servable(self.base / name / str(version), self._config,
                                        f"{name}/{version}", self.batcher)
                except (tf.errors.OpError, OSError, RuntimeError, ValueError,
                        DecodeError) as exc:
                    if quiet:
                        raise ServerFault(f"version {version} of model {name} could not be "
                                          f"loaded ({_first_line(exc)})") from None
                    print(f"rnn-pipeline serve: loading {name}/{version} failed: {exc}",
                          file=sys.stderr, flush=True)
                    raise ServerFault(f"version {version} of model {name} could not be "
                                      f"loaded ({type(exc).__name__}); the server's log has "
                                      f"the details") from None
                with self._lock:
                    self._loaded[key] = servable
        return self._loaded[key]

    def load_latest(self):
        """Loads the latest version of every model now, as TF Serving does when it starts.

        Returns:
            the "<name>/<version>" labels loaded.

        Raises:
            ServerFault: a version that cannot be loaded, naming it and the reason.
        """
        loaded = []
        for folder in sorted(self.base.iterdir()):
            available = self.versions(folder.name) if folder.is_dir() else []
            if available:
                self.servable(folder.name, available[-1], quiet=True)
                loaded.append(f"{folder.name}/{available[-1]}")
        return loaded

    def status(self, name, version=None):
        """GET /v1/models/<name>[/versions/<v>]."""
        chosen = [self.resolve(name, version)] if version is not None else self.versions(name)
        if not chosen:
            raise NotFound(f"Could not find any versions of model {name}")
        return {"model_version_status": [
            {"version": str(v), "state": "AVAILABLE",
             "status": {"error_code": "OK", "error_message": ""}} for v in reversed(chosen)]}

    def signature_map(self, name, version=None):
        """The version served (the latest when None) and its callable signatures, as TF
        Serving's `SignatureDefMap` proto (the metadata that REST and gRPC both serve)."""
        from tensorflow_serving.apis import get_model_metadata_pb2

        version = self.resolve(name, version)
        (meta_graph,) = read_saved_model(self.base / name / str(version)).meta_graphs
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, signature in meta_graph.signature_def.items():
            if not key.startswith("__"):  # __saved_model_init_op is not a signature to call
                signature_map.signature_def[key].CopyFrom(signature)
        return version, signature_map

    def metadata(self, name, version=None):
        """GET .../metadata: the signature defs, in TF Serving's JSON."""
        version, signature_map = self.signature_map(name, version)
        as_json = json_format.MessageToDict(signature_map, preserving_proto_field_name=True)
        as_json["@type"] = "type.googleapis.com/tensorflow.serving.SignatureDefMap"
        return {"model_spec": {"name": name, "signature_name": "", "version": str(version)},
                "metadata": {"signature_def": as_json}}
