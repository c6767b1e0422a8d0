"""SentencePiece: trained on the training split with the sentencepiece package, run
in the graph by tensorflow-text. Works on text without spaces (Japanese)."""

import base64
import io

import sentencepiece as spm
import tensorflow as tf
import tensorflow_text as tf_text

from rnn_pipeline import choices
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.tokenizers.base import TOKENIZERS, Tokenizer

_MODEL_TYPES = choices.SENTENCEPIECE_TYPES.declared
MODEL_FILE = "sentencepiece.model"



@TOKENIZERS.register("sentencepiece")
class SentencePieceTokenizer(Tokenizer):
    """Args:
        model: serialized sentencepiece model proto (bytes or base64 text), or None until trained.
    """

    name = "sentencepiece"
    trainable = True
    separator = ""

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
        spm.set_random_generator_seed(seed)
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter([line for line in lines if line.strip()]),
                model_writer=buffer,
                vocab_size=text_config.sentencepiece_vocab_size,
                model_type=text_config.sentencepiece_model_type,
                character_coverage=0.9995,
                hard_vocab_limit=False,  # small corpora may not support the full size
                normalization_rule_name="identity",  # NFKC is done by the pipeline
                num_threads=1,
                minloglevel=2,
            )
        except RuntimeError as exc:  # e.g. a vocabulary smaller than the character set
            raise pipeline_error("text.sentencepiece_vocab_size",
                                 f"is not usable for this corpus ({str(exc).split('] ')[-1]})",
                                 text_config.sentencepiece_vocab_size) from None
        self.model = buffer.getvalue()
        self._graph_tokenizer = None

    def write_assets(self, assets_dir):
        # tensorflow-text's op takes the model as a graph attribute, so the graph carries
        # it too; the asset is the same model for clients and tools (spm_decode, ...).
        path = assets_dir / MODEL_FILE
        path.write_bytes(self.model)
        return [path]

    def trackables(self):
        return [self._tokenizer()]

    def pieces(self):
        processor = spm.SentencePieceProcessor(model_proto=self.model)
        return [processor.id_to_piece(i) for i in range(processor.get_piece_size())
                if not (processor.is_control(i) or processor.is_unknown(i))]

    def _tokenizer(self):
        if self.model is None:
            raise RuntimeError("The sentencepiece tokenizer must be trained before use.")
        if self._graph_tokenizer is None:
            with tf.init_scope():  # the op's resource must outlive any tf.function/tf.data graph
                self._graph_tokenizer = tf_text.SentencepieceTokenizer(model=self.model,
                                                                       out_type=tf.string)
        return self._graph_tokenizer

    def tokenize(self, text):
        return self._tokenizer().tokenize(text)  # (batch, None) string pieces

    def detokenize(self, tokens):
        text = tf.strings.reduce_join(tokens, axis=-1)
        return tf.strings.regex_replace(text, "\u2581", " ")  # "▁" marks a space

    def get_config(self):
        model = base64.b64encode(self.model).decode("ascii") if self.model else None
        return {"name": self.name, "model": model}
