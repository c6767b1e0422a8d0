"""The TF Serving view of a trained `Seq2SeqTranslator`: source strings in, translations
out. Both sides' tokenization, vocabularies (SavedModel assets) and the decoding loop are
in the graph."""

import tensorflow as tf

from rnn_pipeline.export.vocabulary_assets import vocabulary_tables, write_vocabulary
from rnn_pipeline.generation.detokenize import detokenizer_for
from rnn_pipeline.tasks.translation.data import BOS_ID, EOS_ID, PAD_ID, pad_source
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

    def tokens(self, ids):
        """(batch, N) padded ids -> (batch, N) string tokens, "" at padding."""
        return tf.where(ids == PAD_ID, "", self.id_tokens.lookup(tf.cast(ids, tf.int64)))

    def text(self, ids):
        """(batch, None) ragged ids -> (batch,) string, as the language writes it."""
        tokens = self.id_tokens.lookup(tf.cast(ids, tf.int64))
        return self._detokenize(self._text[0].detokenize_tokens(tokens))


class TranslationServing(tf.Module):
    """Signature ``serving_default``: ``source`` [batch] string -> ``translation`` [batch]
    string, decoded with the run's beam width, length penalty and length limit.

    Signature ``attention`` (a model with attention): ``source`` and ``translation``
    [batch] strings -> ``source_tokens`` [batch, S] (the source's tokens and ``<eos>``),
    ``target_tokens`` [batch, T] (the translation's tokens and ``<eos>``), both "" at
    padding, and ``attention`` [batch, T, S] float32: where the decoder looked while it
    predicted each target token, the translation given (teacher forcing); a row sums to 1
    over the real source tokens, padding rows are 0.

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
        self.attend = None
        if model.attention_layer is not None:
            self.attend = tf.function(self._attention, input_signature=[
                tf.TensorSpec([None], tf.string, name=name)
                for name in ("source", "translation")])

    def _translate(self, source):
        d = self.decode_config
        ids = decode_ids(self._model[0], pad_source(self.source.ids(source)), d.max_tokens,
                         BOS_ID, EOS_ID, num_beams=d.num_beams, length_penalty=d.length_penalty)
        return {"translation": self.target.text(ids)}

    def _attention(self, source, translation):
        source_ids = pad_source(self.source.ids(source))  # (batch, S)
        ids = self.target.ids(translation)  # (batch, None) ragged
        rows = tf.fill([ids.nrows(), 1], 0)
        decoder_in = tf.concat([rows + BOS_ID, ids], axis=1).to_tensor(default_value=PAD_ID)
        targets = tf.concat([ids, rows + EOS_ID], axis=1).to_tensor(default_value=PAD_ID)
        weights = self._model[0].attention_weights(source_ids, decoder_in)  # (batch, T, S)
        real = tf.cast(targets != PAD_ID, weights.dtype)[:, :, None]  # (batch, T, 1)
        return {"source_tokens": self.source.tokens(source_ids),
                "target_tokens": self.target.tokens(targets), "attention": weights * real}

    def signatures(self):
        found = {"serving_default": self.translate}
        if self.attend is not None:
            found["attention"] = self.attend
        return found

    def warmup_inputs(self):
        warmup = {"serving_default": {"source": ["", "hello"]}}
        if self.attend is not None:
            warmup["attention"] = {"source": ["", "hello"], "translation": ["", "hello"]}
        return warmup
