"""The TensorFlow Serving view of a trained `CausalLM`: raw strings in, text and
probabilities out. Tokenization, the vocabulary and the generation loop are all in
the graph; the vocabulary and any tokenizer model are read from SavedModel assets."""

import tensorflow as tf

from rnn_pipeline.data.vocabulary import EOS
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.export.request_checks import assert_finite, assert_in_range
from rnn_pipeline.export.vocabulary_assets import vocabulary_tables, write_vocabulary
from rnn_pipeline.generation.generate import generate_ids
from rnn_pipeline.generation.samplers import ServingSampler
from rnn_pipeline.generation.score import score_ids, score_outputs
from rnn_pipeline.generation.stepper import RecurrentStepper
from rnn_pipeline.limits import MAX_GENERATED_TOKENS

VOCABULARY_FILE = "vocab.txt"


def _strings(name):
    return tf.TensorSpec([None], tf.string, name=name)


class LanguageModelServing(tf.Module):
    """Signatures ``serving_default`` (generation), ``next_words`` and ``score``.

    Args:
        model: a trained `CausalLM` with its `TextPreprocessor`.
        assets_dir: a `pathlib.Path`; files written there become the export's assets.
        top_words: words returned by ``next_words``.
        max_tokens_limit: the largest ``max_tokens`` a request may ask for, in
            [1, `MAX_GENERATED_TOKENS`] (``max_tokens`` = 0 returns the prompt).
    """

    def __init__(self, model, assets_dir, top_words=10, max_tokens_limit=1000):
        super().__init__(name="language_model_serving")
        if not 1 <= max_tokens_limit <= MAX_GENERATED_TOKENS:
            raise pipeline_error("--max-tokens-limit", f"must be in [1, {MAX_GENERATED_TOKENS}]",
                                 max_tokens_limit)
        preprocessor = model.preprocessor
        vocabulary = preprocessor.vocabulary
        if not 1 <= top_words <= len(vocabulary):
            raise pipeline_error("top_words", f"must be in [1, {len(vocabulary)}]", top_words)
        # The tf.Variables themselves (not Keras' wrappers): TF1-style loaders (TF Serving,
        # saved_model_cli) restore exactly the variables the signature graphs read.
        self.model_variables = [variable.value for variable in model.variables]
        write_vocabulary(vocabulary, assets_dir / VOCABULARY_FILE)
        self.token_ids, self.id_tokens = vocabulary_tables(str(assets_dir / VOCABULARY_FILE))
        self.tokenizer_files = [tf.saved_model.Asset(str(path))
                                for path in preprocessor.tokenizer.write_assets(assets_dir)]
        self.tokenizer_resources = preprocessor.tokenizer.trackables()
        self._text = [preprocessor]  # a list hides the Keras layer from tracking: the export
        # uses its tokenization graph, not its StringLookup (the tables above replace it)
        self._stepper = RecurrentStepper(model)
        self._eos_id = vocabulary.index(EOS)
        self.top_words = top_words
        self.max_tokens_limit = max_tokens_limit

    def _ids(self, text):
        """(batch,) string -> (batch, None) ragged int32 ids, through the asset vocabulary."""
        tokens = self._text[0].tokens(text)
        return tf.cast(self.token_ids.lookup(tokens), tf.int32)

    @staticmethod
    def _same_batch(first_name, first, **others):
        checks = [tf.debugging.assert_equal(
            tf.shape(first)[0], tf.shape(value)[0],
            message=f"inputs {first_name} and {name} must have the same batch size")
            for name, value in others.items()]
        return tf.control_dependencies(checks)

    @tf.function(input_signature=[_strings("prompt"), tf.TensorSpec([None], tf.int32, "max_tokens"),
                                  tf.TensorSpec([None], tf.float32, "temperature"),
                                  tf.TensorSpec([None], tf.int32, "top_k"),
                                  tf.TensorSpec([None], tf.int32, "seed")])
    def generate(self, prompt, max_tokens, temperature, top_k, seed):
        """Prompt + generated continuation. ``temperature <= 0`` is greedy decoding;
        ``top_k <= 0`` samples from the whole vocabulary."""
        with self._same_batch("prompt", prompt, max_tokens=max_tokens, temperature=temperature,
                              top_k=top_k, seed=seed):
            checks = [assert_in_range(max_tokens, "max_tokens", 0, self.max_tokens_limit),
                      assert_finite(temperature, "temperature",
                                    "must be a finite number (<= 0 is greedy)")]
        with tf.control_dependencies(checks):
            ids = generate_ids(self._stepper, self._ids(prompt), max_tokens,
                               ServingSampler(temperature, top_k), seed, self._eos_id)
        text = self._text[0]
        continuation = text.detokenize_tokens(self.id_tokens.lookup(tf.cast(ids, tf.int64)))
        return {"text": text.join(prompt, continuation)}

    @tf.function(input_signature=[_strings("prompt")])
    def next_words(self, prompt):
        """The ``top_words`` most probable next words after each prompt."""
        logits, _ = self._stepper.read_prompts(self._ids(prompt), self._eos_id)
        probabilities, ids = tf.math.top_k(tf.nn.softmax(logits), k=self.top_words)
        return {"words": self.id_tokens.lookup(tf.cast(ids, tf.int64)),
                "probabilities": probabilities}  # (batch, top_words) each

    @tf.function(input_signature=[_strings("text")])
    def score(self, text):
        """Log-likelihood (nats), token count and perplexity of each text as one line."""
        return score_outputs(*score_ids(self._stepper, self._ids(text), self._eos_id))

    def signatures(self):
        return {"serving_default": self.generate, "next_words": self.next_words,
                "score": self.score}

    def warmup_inputs(self):
        """A few real requests per signature, replayed by TF Serving when it loads."""
        return {
            "serving_default": {"prompt": ["", "the"], "max_tokens": [5, 5],
                                "temperature": [0.0, 1.0], "top_k": [0, 10], "seed": [0, 1]},
            "next_words": {"prompt": ["", "the"]},
            "score": {"text": ["the"]},
        }
