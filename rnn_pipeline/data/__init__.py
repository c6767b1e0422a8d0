"""Text data: readers, corpora, normalization and lookup in the graph, LM windows."""
