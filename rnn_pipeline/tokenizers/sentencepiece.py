"""SentencePiece: trained on the training split with the sentencepiece package, run
in the graph by tensorflow-text. Works on text without spaces (Japanese)."""

import base64
import io

import sentencepiece as spm
import tensorflow as tf
import tensorflow_text as tf_text

from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tokenizers.base import TOKENIZERS, Tokenizer

_MODEL_TYPES = ("unigram", "bpe")


@TOKENIZERS.register("sentencepiece")
class SentencePieceTokenizer(Tokenizer):
    """Args:
        model: serialized sentencepiece model proto (bytes or base64 text), or None until trained.
    """

    name = "sentencepiece"
    trainable = True

    def __init__(self, model=None):
        if isinstance(model, str):
            model = base64.b64decode(model)
        self.model = model
        self._graph_tokenizer = None

    def train(self, lines, text_config, seed=0):
        if text_config.sentencepiece_model_type not in _MODEL_TYPES:
            raise pipeline_error("text.sentencepiece_model_type",
                                 f"must be one of: {', '.join(map(repr, _MODEL_TYPES))}",
                                 text_config.sentencepiece_model_type)
        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter([line for line in lines if line.strip()]),
            model_writer=buffer,
            vocab_size=text_config.sentencepiece_vocab_size,
            model_type=text_config.sentencepiece_model_type,
            character_coverage=0.9995,
            hard_vocab_limit=False,  # small corpora may not support the full size
            normalization_rule_name="identity",  # NFKC is done by the pipeline
            random_seed=seed,
            num_threads=1,
            minloglevel=2,
        )
        self.model = buffer.getvalue()
        self._graph_tokenizer = None

    def _tokenizer(self):
        if self.model is None:
            raise RuntimeError("The sentencepiece tokenizer must be trained before use.")
        if self._graph_tokenizer is None:
            self._graph_tokenizer = tf_text.SentencepieceTokenizer(model=self.model,
                                                                   out_type=tf.string)
        return self._graph_tokenizer

    def tokenize(self, text):
        return self._tokenizer().tokenize(text)  # (batch, None) string pieces

    def get_config(self):
        model = base64.b64encode(self.model).decode("ascii") if self.model else None
        return {"name": self.name, "model": model}
