"""The ``[embeddings]`` policy on an embedding layer: load vectors, freeze, thaw."""

from pathlib import Path

from rnn_pipeline.embeddings.pretrained import MISSING_INITS, pretrained_matrix
from rnn_pipeline.embeddings.vectors import check_format, read_vectors
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.training.freezing import FrozenForEpochs


def check_embeddings(config):
    """Checks an `EmbeddingsConfig` before any data is read."""
    check_format(config.format)
    MISSING_INITS.get(config.missing)
    if config.frozen_epochs < 0:
        raise pipeline_error("embeddings.frozen_epochs", "must be at least 0",
                             config.frozen_epochs)
    if config.frozen_epochs and not config.trainable:
        raise pipeline_error("embeddings.frozen_epochs", "must be 0 when embeddings.trainable "
                             "is false (the embedding is then frozen throughout)",
                             config.frozen_epochs)
    if config.file is not None and not Path(config.file).is_file():
        raise pipeline_error("embeddings.file", "must be an existing vectors file", config.file)


def load_pretrained(layer, config, itos, train_stream, seed=0, vectors=None):
    """Writes the pretrained rows into ``layer.embeddings`` and applies ``trainable``.

    Args:
        layer: a built embedding layer with an ``embeddings`` variable.
        config: an `EmbeddingsConfig` with a ``file``.
        itos: vocabulary words in id order.
        train_stream: token ids of the training split.
        seed: seed of the "scaled" initialisation.
        vectors: the file's `WordVectors` when the caller read it already (`read_vectors`
            checks them, so a bad file can be refused before the data's progress line);
            None reads it here.

    Returns:
        the `Coverage` report.
    """
    if vectors is None:
        vectors = read_vectors(config.file, config.format)
    matrix, coverage = pretrained_matrix(
        itos, vectors, layer.embeddings.numpy(), train_stream, config.missing,
        config.lowercase, seed=seed)
    layer.embeddings.assign(matrix)  # (vocabulary, embedding_dim)
    if not config.trainable:
        layer.trainable = False
    return coverage


def freeze_callbacks(layer, config, log=None):
    """A `FrozenForEpochs` callback when the embedding thaws after ``frozen_epochs``."""
    if config.file is None or not config.trainable or config.frozen_epochs == 0:
        return []
    return [FrozenForEpochs(layer, config.frozen_epochs, log)]
