"""The models under an export base, loaded on first use, as TF Serving finds them."""

import threading
from pathlib import Path

import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the text ops, as TF Serving links them in)
from google.protobuf import json_format

from rnn_pipeline.export.graph_checks import read_saved_model
from rnn_pipeline.export.layout import versions


class NotFound(LookupError):
    """An unknown model or version: HTTP 404."""


class ModelRepository:
    """``<base>/<name>/<version>/`` folders; the latest version serves by default.

    Args:
        base: the export base folder.
    """

    def __init__(self, base):
        self.base = Path(base)
        self._loaded = {}
        self._lock = threading.Lock()

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

    def signatures(self, name, version):
        """The loaded SavedModel's callable signatures."""
        key = (name, version)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = tf.saved_model.load(str(self.base / name / str(version)))
            return self._loaded[key].signatures

    def status(self, name, version=None):
        """GET /v1/models/<name>[/versions/<v>]."""
        chosen = [self.resolve(name, version)] if version is not None else self.versions(name)
        if not chosen:
            raise NotFound(f"Could not find any versions of model {name}")
        return {"model_version_status": [
            {"version": str(v), "state": "AVAILABLE",
             "status": {"error_code": "OK", "error_message": ""}} for v in reversed(chosen)]}

    def metadata(self, name, version=None):
        """GET .../metadata: the signature defs, in TF Serving's JSON."""
        from tensorflow_serving.apis import get_model_metadata_pb2

        version = self.resolve(name, version)
        (meta_graph,) = read_saved_model(self.base / name / str(version)).meta_graphs
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, signature in meta_graph.signature_def.items():
            if not key.startswith("__"):  # __saved_model_init_op is not a signature to call
                signature_map.signature_def[key].CopyFrom(signature)
        as_json = json_format.MessageToDict(signature_map, preserving_proto_field_name=True)
        as_json["@type"] = "type.googleapis.com/tensorflow.serving.SignatureDefMap"
        return {"model_spec": {"name": name, "signature_name": "", "version": str(version)},
                "metadata": {"signature_def": as_json}}
