"""Word vectors: reading pretrained files, the coverage report, Word2Vec, neighbours."""

from rnn_pipeline.embeddings.neighbors import nearest
from rnn_pipeline.embeddings.policy import check_embeddings, freeze_callbacks, load_pretrained
from rnn_pipeline.embeddings.pretrained import MISSING_INITS, Coverage, pretrained_matrix
from rnn_pipeline.embeddings.vectors import VECTOR_FORMATS, WordVectors, read_vectors

__all__ = [
    "MISSING_INITS", "VECTOR_FORMATS", "Coverage", "WordVectors", "check_embeddings",
    "freeze_callbacks", "load_pretrained", "nearest", "pretrained_matrix", "read_vectors",
]
