"""The TF Serving view of a trained `Seq2SeqTranslator`: source strings in, translations
out. Both sides' tokenization, vocabularies (SavedModel assets) and the decoding loop are
in the graph."""

import tensorflow as tf

from rnn_pipeline.export.vocabulary_assets import vocabulary_tables, write_vocabulary
from rnn_pipeline.generation.detokenize import detokenizer_for
from rnn_pipeline.tasks.translation.data import BOS_ID, EOS_ID, pad_source
from rnn_pipeline.tasks.translation.decode import decode_ids


class _Side(tf.Module):
    """One side's vocabulary tables (asset ``<name>_vocab.txt``) and tokenizer assets
    (written under ``assets_dir / name``; the export stores assets by file name, and adds
    ``_1`` when both sides have, e.g., a ``sentencepiece.model``)."""

    def __init__(self, preprocessor, assets_dir, name, language=None):
        super().__init__(name=f"{name}_text")
        folder = assets_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        vocabulary_file = assets_dir / f"{name}_vocab.txt"
        write_vocabulary(preprocessor.vocabulary, vocabulary_file)
        self.token_ids, self.id_tokens = vocabulary_tables(str(vocabulary_file))
        self.tokenizer_files = [tf.saved_model.Asset(str(path))
                                for path in preprocessor.tokenizer.write_assets(folder)]
        self.tokenizer_resources = preprocessor.tokenizer.trackables()
        self._text = [preprocessor]  # its tokenization graph; the tables replace its lookup
        self._detokenize = detokenizer_for(language)

    def ids(self, text):
        """(batch,) string -> (batch, None) ragged int32 ids."""
        return tf.cast(self.token_ids.lookup(self._text[0].tokens(text)), tf.int32)

    def text(self, ids):
        """(batch, None) ragged ids -> (batch,) string, as the language writes it."""
        tokens = self.id_tokens.lookup(tf.cast(ids, tf.int64))
        return self._detokenize(self._text[0].detokenize_tokens(tokens))


class TranslationServing(tf.Module):
    """Signature ``serving_default``: ``source`` [batch] string -> ``translation`` [batch]
    string, decoded with the run's beam width, length penalty and length limit.

    Args:
        model: a trained `Seq2SeqTranslator` with both preprocessors.
        assets_dir: a `pathlib.Path`; files written there become the export's assets.
        decode_config: a `DecodeConfig`.
        language: the target's ISO code (picks the detokenizer).
    """

    def __init__(self, model, assets_dir, decode_config, language=None):
        super().__init__(name="translation_serving")
        # The tf.Variables themselves: TF1-style loaders restore what the graph reads.
        self.model_variables = [variable.value for variable in model.variables]
        self._model = [model]  # a list hides the Keras model from tracking
        self.source = _Side(model.source_preprocessor, assets_dir, "source")
        self.target = _Side(model.target_preprocessor, assets_dir, "target", language)
        self.decode_config = decode_config
        self.translate = tf.function(self._translate, input_signature=[
            tf.TensorSpec([None], tf.string, name="source")])

    def _translate(self, source):
        d = self.decode_config
        ids = decode_ids(self._model[0], pad_source(self.source.ids(source)), d.max_tokens,
                         BOS_ID, EOS_ID, num_beams=d.num_beams, length_penalty=d.length_penalty)
        return {"translation": self.target.text(ids)}

    def signatures(self):
        return {"serving_default": self.translate}

    def warmup_inputs(self):
        return {"serving_default": {"source": ["", "hello"]}}
