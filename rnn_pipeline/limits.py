"""Bounds on numbers a user gives, so that a typo is refused instead of allocating
without end or wrapping around silently."""

# Seeds: Keras' and numpy's are 32-bit; a larger one would be cut.
MAX_SEED = 2**32 - 1
# TF Serving reads a version folder's name as an int64.
MAX_VERSION = 2**63 - 1
# Tokens one generation request or command may ask for.
MAX_GENERATED_TOKENS = 10_000
# Sampling among the k most probable tokens: an int32 in the serving signature.
MAX_TOP_K = 2**31 - 1
# Beam hypotheses per prompt or sentence: each is a row of every decoding step.
MAX_BEAMS = 256
# Word2Vec's context words per side and negative samples (the literature uses 2-20).
MAX_WORD2VEC_CONTEXT = 1_000
# Passes over the training split.
MAX_EPOCHS = 100_000
