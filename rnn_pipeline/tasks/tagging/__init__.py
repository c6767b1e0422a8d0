"""Sequence tagging (POS, NER): one tag per token, from a bidirectional recurrent stack
with a softmax or linear-chain CRF head."""
