"""The TF Serving view of a trained `SequenceTagger`: tokens (or raw sentences) in, tag
names and scores out. Word and character lookups are the model's own (in its graph); the
tag names are a constant of the graph."""

import tensorflow as tf

from rnn_pipeline.tokenizers.rule_based import split_on_whitespace


class TaggingServing(tf.Module):
    """Signature ``serving_default``: ``tokens`` [batch, words] string, padded with "" ->
    ``tags`` [batch, words] string (tag names, "" on padding) and ``scores`` [batch, words]
    float32 (0 on padding).

    A score is the softmax probability of the predicted tag: with the "softmax" head the
    token's highest probability; with "crf", the softmax of the CRF's unary potentials at
    the Viterbi tag (a confidence of the token's own evidence, not a CRF marginal).

    Signature ``tag_sentences``: ``sentences`` [batch] string, raw text tokenized in the
    graph as ``rnn-pipeline tag --text`` does (Unicode whitespace, or every character for a
    character-level run) -> ``tokens`` [batch, words] ("" padded), ``tags`` and ``scores``.

    Args:
        model: a trained `SequenceTagger`.
        assets_dir: a `pathlib.Path` for the export's assets (none are needed).
        vocabularies: the run's `TaggingVocabularies` (the tag names).
        character_level: whether the run's tokens are characters.
    """

    def __init__(self, model, assets_dir, vocabularies, character_level=False):
        super().__init__(name="tagging_serving")
        del assets_dir
        # The tf.Variables and lookup tables themselves, not Keras' wrappers: TF1-style
        # loaders (TF Serving, saved_model_cli) then restore exactly what the graphs read.
        self.model_variables = [variable.value for variable in model.variables]
        self.lookup_tables = [layer.lookup_table for layer in (model.word_lookup,
                                                                model.char_lookup) if layer]
        self._model = [model]  # a list hides the Keras model from tracking
        self._tags = list(vocabularies.tags)
        self._character_level = character_level
        self.tag = tf.function(self._tag, input_signature=[
            tf.TensorSpec([None, None], tf.string, name="tokens")])
        self.tag_sentences = tf.function(self._tag_sentences, input_signature=[
            tf.TensorSpec([None], tf.string, name="sentences")])

    def _tag_sentences(self, sentences):
        if self._character_level:
            tokens = tf.strings.unicode_split(sentences, "UTF-8")  # ragged (batch, chars)
        else:
            tokens = split_on_whitespace(sentences)  # ragged (batch, words)
        tokens = tokens.to_tensor(default_value="")  # (batch, words)
        return {"tokens": tokens, **self._tag(tokens)}

    def _tag(self, tokens):
        model = self._model[0]
        mask = tf.not_equal(tokens, "")  # (batch, words)
        scores = model(tokens, training=False)  # (batch, words, tags)
        ids = model._decode(tokens, scores)  # (batch, words) int32
        probabilities = tf.nn.softmax(scores, axis=-1)  # log-probs or potentials alike
        chosen = tf.gather(probabilities, ids, batch_dims=2)  # (batch, words)
        names = tf.gather(tf.constant(self._tags, tf.string), ids)
        return {"tags": tf.where(mask, names, ""),
                "scores": tf.where(mask, chosen, 0.0)}

    def signatures(self):
        return {"serving_default": self.tag, "tag_sentences": self.tag_sentences}

    def warmup_inputs(self):
        return {"serving_default": {"tokens": [["Peter", "runs", ""], ["a", "", ""]]},
                "tag_sentences": {"sentences": ["Peter runs", ""]}}
