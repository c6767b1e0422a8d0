"""The TF Serving view of a trained `SequenceTagger`: tokens in, tag names and scores out.
Word and character lookups are the model's own (in its graph); the tag names are a
constant of the graph."""

import tensorflow as tf


class TaggingServing(tf.Module):
    """Signature ``serving_default``: ``tokens`` [batch, words] string, padded with "" ->
    ``tags`` [batch, words] string (tag names, "" on padding) and ``scores`` [batch, words]
    float32 (0 on padding).

    A score is the softmax probability of the predicted tag: with the "softmax" head the
    token's highest probability; with "crf", the softmax of the CRF's unary potentials at
    the Viterbi tag (a confidence of the token's own evidence, not a CRF marginal).

    Args:
        model: a trained `SequenceTagger`.
        assets_dir: a `pathlib.Path` for the export's assets (none are needed).
        vocabularies: the run's `TaggingVocabularies` (the tag names).
    """

    def __init__(self, model, assets_dir, vocabularies):
        super().__init__(name="tagging_serving")
        self.model = model  # tracked: its variables and lookup tables
        del assets_dir
        self._tags = list(vocabularies.tags)
        self.tag = tf.function(self._tag, input_signature=[
            tf.TensorSpec([None, None], tf.string, name="tokens")])

    def _tag(self, tokens):
        model = self.model
        mask = tf.not_equal(tokens, "")  # (batch, words)
        scores = model(tokens, training=False)  # (batch, words, tags)
        ids = model._decode(tokens, scores)  # (batch, words) int32
        probabilities = tf.nn.softmax(scores, axis=-1)  # log-probs or potentials alike
        chosen = tf.gather(probabilities, ids, batch_dims=2)  # (batch, words)
        names = tf.gather(tf.constant(self._tags, tf.string), ids)
        return {"tags": tf.where(mask, names, ""),
                "scores": tf.where(mask, chosen, 0.0)}

    def signatures(self):
        return {"serving_default": self.tag}

    def warmup_inputs(self):
        return {"serving_default": {"tokens": [["Peter", "runs", ""], ["a", "", ""]]}}
