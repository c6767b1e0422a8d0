"""The TensorFlow Serving view of a trained `CausalLM`: raw strings in, text and
probabilities out. Tokenization, the vocabulary and the generation loop are all in
the graph; the vocabulary and any tokenizer model are read from SavedModel assets."""

import math

import tensorflow as tf

from rnn_pipeline.data.vocabulary import EOS
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.export.request_checks import assert_finite, assert_in_range
from rnn_pipeline.export.vocabulary_assets import vocabulary_tables, write_vocabulary
from rnn_pipeline.generation.generate import generate_ids
from rnn_pipeline.generation.samplers import ServingSampler
from rnn_pipeline.generation.score import score_outputs
from rnn_pipeline.generation.stepper import RecurrentStepper
from rnn_pipeline.limits import MAX_GENERATED_TOKENS, MAX_TOP_K

VOCABULARY_FILE = "vocab.txt"
# The generation options' defaults, those of `rnn-pipeline generate` (its top_k sampler).
GENERATION_DEFAULTS = {"max_tokens": 30, "temperature": 1.0, "top_k": 10, "seed": 0}
MAX_SERVING_SEED = 2**31 - 1  # an int32 input
_OPTION_DTYPES = {"max_tokens": tf.int32, "temperature": tf.float32, "top_k": tf.int32,
                  "seed": tf.int32}


def _strings(name):
    return tf.TensorSpec([None], tf.string, name=name)


def generation_defaults(max_tokens_limit, max_tokens=None, temperature=None, top_k=None,
                        seed=None):
    """The options ``serving_default`` runs with, checked; None takes `GENERATION_DEFAULTS`
    (``max_tokens`` at most ``max_tokens_limit``).

    Returns:
        {option: Python number}.
    """
    given = {"max_tokens": max_tokens, "temperature": temperature, "top_k": top_k,
             "seed": seed}
    values = {name: GENERATION_DEFAULTS[name] if value is None else value
              for name, value in given.items()}
    if max_tokens is None:
        values["max_tokens"] = min(values["max_tokens"], max_tokens_limit)
    ranges = {"max_tokens": (0, max_tokens_limit, " (--max-tokens-limit)"),
              "top_k": (0, MAX_TOP_K, " (0: the whole vocabulary)"),
              "seed": (0, MAX_SERVING_SEED, "")}
    for name, (low, high, note) in ranges.items():
        if not low <= values[name] <= high:
            raise pipeline_error(f"--{name.replace('_', '-')}",
                                 f"must be in [{low}, {high}]{note}", values[name])
    if not math.isfinite(values["temperature"]):
        raise pipeline_error("--temperature", "must be a finite number (<= 0 is greedy)",
                             values["temperature"])
    return values


class LanguageModelServing(tf.Module):
    """Signatures ``serving_default`` (generation from ``prompt`` alone, with the export's
    option defaults), ``generate`` (generation with every option an input; its SignatureDef
    ``defaults`` hold the same defaults), ``next_words`` and ``score``.

    Args:
        model: a trained `CausalLM` with its `TextPreprocessor`.
        assets_dir: a `pathlib.Path`; files written there become the export's assets.
        top_words: words returned by ``next_words``.
        max_tokens_limit: the largest ``max_tokens`` a request may ask for, in
            [1, `MAX_GENERATED_TOKENS`] (``max_tokens`` = 0 returns the prompt).
        **defaults: ``max_tokens``, ``temperature``, ``top_k``, ``seed`` of
            ``serving_default`` (see `generation_defaults`; None: `GENERATION_DEFAULTS`).
    """

    def __init__(self, model, assets_dir, top_words=10, max_tokens_limit=1000, **defaults):
        super().__init__(name="language_model_serving")
        if not 1 <= max_tokens_limit <= MAX_GENERATED_TOKENS:
            raise pipeline_error("--max-tokens-limit", f"must be in [1, {MAX_GENERATED_TOKENS}]",
                                 max_tokens_limit)
        self.defaults = generation_defaults(max_tokens_limit, **defaults)
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
        self.generate = self._generate_function()
        self.generate_from_prompt = tf.function(self._generate_from_prompt,
                                                input_signature=[_strings("prompt")])

    def _default_tensors(self):
        """{option: (1,) tensor}: one value that every row of a request takes."""
        return {name: tf.constant([value], _OPTION_DTYPES[name])
                for name, value in self.defaults.items()}

    def _generate_function(self):
        """``generate`` as a `tf.function` whose options default to `_default_tensors`:
        the SavedModel writes them as the SignatureDef's ``defaults`` (a TF1 session may
        leave those inputs out)."""
        d = self._default_tensors()

        def generate(prompt, max_tokens=d["max_tokens"], temperature=d["temperature"],
                     top_k=d["top_k"], seed=d["seed"]):
            return self._generate(prompt, max_tokens, temperature, top_k, seed)

        return tf.function(generate, input_signature=[_strings("prompt")] + [
            tf.TensorSpec([None], dtype, name) for name, dtype in _OPTION_DTYPES.items()])

    def _generate_from_prompt(self, prompt):
        """``serving_default``: the prompts continued with the export's defaults."""
        return self._generate(prompt, **self._default_tensors())

    def _ids(self, text):
        """(batch,) string -> ((batch, None) ragged string tokens, ragged int32 ids), through
        the asset vocabulary."""
        tokens = self._text[0].tokens(text)
        return tokens, tf.cast(self.token_ids.lookup(tokens), tf.int32)

    @staticmethod
    def _per_row(prompt, **options):
        """Each option broadcast to (batch,): it must have a value per prompt, or one."""
        batch = tf.shape(prompt)[0]
        checks = [tf.debugging.Assert(
            (tf.size(value) == batch) | (tf.size(value) == 1),
            [f"inputs prompt and {name} must have the same batch size (or {name} one value)"])
            for name, value in options.items()]
        with tf.control_dependencies(checks):
            return {name: tf.broadcast_to(value, [batch]) for name, value in options.items()}

    def _generate(self, prompt, max_tokens, temperature, top_k, seed):
        """Prompt + generated continuation. ``temperature <= 0`` is greedy decoding;
        ``top_k <= 0`` samples from the whole vocabulary."""
        o = self._per_row(prompt, max_tokens=max_tokens, temperature=temperature,
                          top_k=top_k, seed=seed)
        checks = [assert_in_range(o["max_tokens"], "max_tokens", 0, self.max_tokens_limit),
                  assert_finite(o["temperature"], "temperature",
                                "must be a finite number (<= 0 is greedy)")]
        with tf.control_dependencies(checks):
            ids = generate_ids(self._stepper, self._ids(prompt)[1], o["max_tokens"],
                               ServingSampler(o["temperature"], o["top_k"]), o["seed"],
                               self._eos_id)
        text = self._text[0]
        continuation = text.detokenize_tokens(self.id_tokens.lookup(tf.cast(ids, tf.int64)))
        return {"text": text.join(prompt, continuation)}

    @tf.function(input_signature=[_strings("prompt")])
    def next_words(self, prompt):
        """The ``top_words`` most probable next words after each prompt."""
        logits, _ = self._stepper.read_prompts(self._ids(prompt)[1], self._eos_id)
        probabilities, ids = tf.math.top_k(tf.nn.softmax(logits), k=self.top_words)
        return {"words": self.id_tokens.lookup(tf.cast(ids, tf.int64)),
                "probabilities": probabilities}  # (batch, top_words) each

    @tf.function(input_signature=[_strings("text")])
    def score(self, text):
        """Log-likelihood (nats), token count, perplexity and out-of-vocabulary words of
        each text as one line."""
        return score_outputs(self._stepper, *self._ids(text), self._eos_id)

    def signatures(self):
        return {"serving_default": self.generate_from_prompt, "generate": self.generate,
                "next_words": self.next_words, "score": self.score}

    def warmup_inputs(self):
        """A few real requests per signature, replayed by TF Serving when it loads."""
        steps = min(5, self.max_tokens_limit)
        return {
            "serving_default": {"prompt": ["", "the"]},
            "generate": {"prompt": ["", "the"], "max_tokens": [steps, steps],
                         "temperature": [0.0, 1.0], "top_k": [0, 10], "seed": [0, 1]},
            "next_words": {"prompt": ["", "the"]},
            "score": {"text": ["the"]},
        }
