"""Writes a task's serving module as a version of a TF Serving model."""

import tempfile
from pathlib import Path

import tensorflow as tf

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.export.graph_checks import gpu_only_ops, read_saved_model
from rnn_pipeline.export.layout import (check_name, read_models_config, resolve_version,
                                        update_models_config, write_atomically)
from rnn_pipeline.export.warmup import write_warmup_requests
from rnn_pipeline.serving.batching_parameters import write_example


def export_saved_model(make_module, base, name, version=None):
    """Exports to ``<base>/<name>/<version>/`` and lists the model in ``<base>/models.config``
    (with an example ``batching_parameters.txt`` beside it, if there is none).
    Every check (name, version, models.config, the module's own options) runs before
    anything is written; a failure leaves nothing behind.

    Args:
        make_module: callable(assets_dir) -> a `tf.Module` with ``signatures()`` and
            ``warmup_inputs()``; files it writes to ``assets_dir`` become assets.
        base: the export base folder (TF Serving's model base path parent).
        name: the model's name.
        version: a new positive version; default: the next free one.

    Returns:
        (version folder, models.config path), both `Path`.
    """
    model_dir = Path(base) / check_name(name)
    version = resolve_version(model_dir, version)
    models_config = read_models_config(base)
    with tempfile.TemporaryDirectory() as assets_dir:
        module = make_module(Path(assets_dir))

        def write(path):
            tf.saved_model.save(module, str(path), signatures=module.signatures())
            gpu_ops = gpu_only_ops(read_saved_model(path))
            if gpu_ops:
                raise pipeline_error("export", "must contain no GPU-only ops", ", ".join(gpu_ops))
            write_warmup_requests(path, name, module.warmup_inputs())

        target = write_atomically(model_dir, version, write)
    config_path = update_models_config(base, name, models_config)
    write_example(base)  # batching_parameters.txt beside it, unless the user has one
    return target, config_path
