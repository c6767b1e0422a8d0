"""Tokenizers, one registry: whitespace, character, unicode_script, sentencepiece."""

from rnn_pipeline.tokenizers import rule_based, sentencepiece  # noqa: F401  (registration)
from rnn_pipeline.tokenizers.base import (
    TOKENIZERS,
    Tokenizer,
    make_tokenizer,
    tokenizer_from_config,
)

__all__ = ["TOKENIZERS", "Tokenizer", "make_tokenizer", "tokenizer_from_config"]
