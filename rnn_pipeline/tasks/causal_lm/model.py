"""The causal language model task: backbone + projection to next-word logits."""

import keras

from rnn_pipeline.choices import LM_HEADS
from rnn_pipeline.data import preprocessor as _preprocessor  # noqa: F401  (registers the class)
from rnn_pipeline.errors import config_keys, pipeline_error
from rnn_pipeline.models.builder import _keys, build_backbone
from rnn_pipeline.models.nll import token_nll
from rnn_pipeline.models.task import TokenTask
from rnn_pipeline.tasks.causal_lm.adaptive_softmax import AdaptiveSoftmax, check_cutoffs


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class OutputBias(keras.layers.Layer):
    """Adds a learned bias (zeros at first) over the last axis: the bias of a tied projection."""

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias")

    def call(self, logits):
        return logits + keras.ops.cast(self.bias, logits.dtype)  # (..., vocab)


@LM_HEADS.register("full")
def full_head(backbone, cutoffs=None, div_value=4.0):
    """One Dense layer over the whole vocabulary (the classic softmax)."""
    init = {} if backbone.init_scale is None else {
        f"{part}_initializer": keras.initializers.RandomUniform(
            -backbone.init_scale, backbone.init_scale, seed=backbone.seed + 1000 + i)
        for i, part in enumerate(("kernel", "bias"))}
    return keras.layers.Dense(backbone.vocabulary_size, name="lm_head", **init)


@LM_HEADS.register("adaptive")
def adaptive_head(backbone, cutoffs=None, div_value=4.0):
    """`AdaptiveSoftmax`: exact log-probabilities, cheaper for large vocabularies."""
    return AdaptiveSoftmax(backbone.vocabulary_size, cutoffs, div_value=div_value,
                           init_scale=backbone.init_scale, seed=backbone.seed + 1000,
                           name="lm_head")


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class TokenNLL(keras.losses.Loss):
    """A loss whose ``y_pred`` already is the per-token NLL: Keras applies the sample
    weights, the reduction and the replica scaling exactly as for its own losses."""

    def call(self, y_true, y_pred):
        return y_pred


@keras.saving.register_keras_serializable(package="rnn_pipeline")
class CausalLM(TokenTask):
    """Predicts token t+1 from tokens 1..t.

    Args:
        backbone: a unidirectional `RNNBackbone`.
        tie_weights: use the embedding matrix as the output projection
            (needs ``embedding_dim == units``); the projection keeps its own bias, as in
            pytorch/examples' ``word_language_model``, which `start_from_unigram` sets.
        head: the output layer, "full" (one softmax over the vocabulary) or "adaptive"
            (`AdaptiveSoftmax`, which trains on its own exact NLL).
        cutoffs: the adaptive head's cluster boundaries (ids, frequency-ranked).
        div_value: the adaptive head's width divisor between clusters.
        preprocessor: optional `TextPreprocessor` (text -> ids) used by `generate`;
            the model itself only sees ids.
    """

    nested_objects = ("backbone", "preprocessor")

    def __init__(self, backbone, tie_weights=False, preprocessor=None, head="full",
                 cutoffs=None, div_value=4.0, **kwargs):
        if backbone.bidirectional:
            raise pipeline_error(
                "bidirectional",
                "must be false for a causal language model: the backward layer reads the words "
                "to the right, so the model would see the very word it must predict", True)
        if tie_weights and backbone.embedding_dim != backbone.output_dim:
            raise pipeline_error(
                "tie_weights",
                f"needs embedding_dim == units, but embedding_dim="
                f"{backbone.embedding_dim} and units={backbone.output_dim}", tie_weights)
        build_head = LM_HEADS.get(head, "head")
        if head == "full" and cutoffs:
            raise pipeline_error("cutoffs", "must be empty unless head='adaptive'", cutoffs)
        if head == "adaptive":
            check_cutoffs(cutoffs, backbone.vocabulary_size)  # its own rule first
        if tie_weights and head != "full":
            raise pipeline_error("tie_weights", f"must be false with head={head!r} (set "
                                 "model.tie_weights = false, or leave it unset): only the full softmax shares the embedding matrix",
                                 tie_weights)
        # === Layers ===
        self.backbone = backbone
        self.lm_head = None
        self.output_bias = OutputBias(name="output_bias") if tie_weights else None
        if not tie_weights:
            self.lm_head = build_head(backbone, cutoffs=cutoffs, div_value=div_value)
        # === Functional graph ===
        token_ids = backbone.input
        hidden = backbone(token_ids)  # (batch, time, units)
        logits = self.project(hidden)  # (batch, time, vocab)
        super().__init__(inputs=token_ids, outputs=logits, **kwargs)
        self.tie_weights = tie_weights
        self.preprocessor = preprocessor
        self.head = head
        config = {"tie_weights": tie_weights, "head": head}
        if head == "adaptive":
            config.update(cutoffs=self.lm_head.cutoffs, div_value=div_value)
        self.token_nll_loss = TokenNLL(name="token_nll")
        self.task_config = config

    def start_from_unigram(self, log_probs):
        """Sets the tied projection's bias to the training tokens' log-unigram, so that
        the untrained model predicts their frequencies (near the unigram perplexity).

        From a zero bias, the softmax first spreads over the whole vocabulary, and every
        step pushes each rarely seen word's shared row down with a tiny gradient of
        constant sign, which Adam turns into full-size steps; those rows are also the
        input vectors. From the unigram the push is gone (BENCHMARKS.md: Adam and a tied
        embedding). An untied model keeps its initializers (Zaremba's, for ptb_small).

        Args:
            log_probs: (vocabulary,) log-probabilities, e.g. `unigram_log_probs`.
        """
        if self.output_bias is not None:
            self.output_bias.bias.assign(keras.ops.cast(log_probs, self.output_bias.bias.dtype))

    def forward_loss(self, x, y, sample_weight=None, training=False):
        """Each token's NLL, computed once: the loss and `Perplexity` both read it (Keras'
        own step computes the softmax cross-entropy twice, for the loss and the metric).
        The adaptive head trains on `AdaptiveSoftmax.token_nll` (no (batch, time, vocab)
        tensor). A model compiled with another loss gets Keras' step."""
        if self.head != "adaptive" and not getattr(self, "default_loss", False):
            return super().forward_loss(x, y, sample_weight, training)
        if self.head == "adaptive":  # a float32 layer, also in mixed precision
            hidden = keras.ops.cast(self.backbone(x, training=training), "float32")
            nll = self.lm_head.token_nll(hidden, y)  # (batch, time)
        elif self.training_product_dtype is not None and training:
            hidden = self.backbone(x, training=training)  # (batch, time, units)
            nll = token_nll(self.low_precision_logits(hidden), y)
        else:
            nll = token_nll(self(x, training=training), y)  # (batch, time)
        loss = self.token_nll_loss(y, nll, sample_weight=sample_weight)
        if self.losses:
            loss = loss + keras.ops.sum(self.losses)
        return loss, nll

    training_product_dtype = None  # set while training in mixed precision

    def cpu_float32_reason(self):
        """Why ``train.precision = "auto"`` keeps this model float32 on a CPU with XLA, or
        None: the adaptive head's GEMMs are small, and XLA's fused float32 step beats a
        bfloat16 one without XLA (3.5× against 2.2× PyTorch, BENCHMARKS.md, issue 38)."""
        if self.head == "adaptive":
            return "the adaptive head trains faster in float32 with train.jit_compile"
        return None

    def float32_layers(self):
        """Layers that stay float32 in mixed precision (`training_precision`): the head,
        whose product `low_precision_logits` takes in the lower precision."""
        return [layer for layer in (self.lm_head, self.output_bias) if layer is not None]

    def low_precision_logits(self, hidden):
        """The full or tied head's logits with the product in ``training_product_dtype``
        and the bias added in float32: (batch, time, units) -> (batch, time, vocab)."""
        low = self.training_product_dtype
        if self.lm_head is None:  # tied: the embedding matrix, transposed
            kernel = keras.ops.transpose(self.backbone.token_embedding.embeddings)
            bias = self.output_bias.bias
        else:
            kernel, bias = self.lm_head.kernel, self.lm_head.bias
        product = keras.ops.matmul(keras.ops.cast(hidden, low), keras.ops.cast(kernel, low))
        return keras.ops.cast(product, "float32") + keras.ops.cast(bias, "float32")

    def project(self, hidden):
        """Next-token logits from the last layer's output, (..., units) -> (..., vocab);
        the adaptive head's are normalised log-probabilities."""
        if self.lm_head is None:
            return self.output_bias(self.backbone.token_embedding(hidden, reverse=True))
        return self.lm_head(hidden)

    def generate(self, prompts, max_tokens=50, sampler="greedy", seed=0, stop_at_eos=False,
                 **sampler_options):
        """Continues each prompt (like keras-hub's ``CausalLM.generate``).

        Args:
            prompts: a string or list of strings.
            max_tokens: tokens to generate per prompt.
            sampler: "greedy", "random", "top_k", "top_p" or "beam".
            seed: seed of the random samplers.
            stop_at_eos: stop at the first ``<eos>``.
            **sampler_options: temperature, k, p, num_beams.
        """
        from rnn_pipeline.generation import generate

        if self.preprocessor is None:
            raise ValueError("generate() needs a preprocessor: build the CausalLM with "
                             "preprocessor=... or load it from a run folder.")
        return generate(self, prompts, max_tokens=max_tokens, sampler=sampler, seed=seed,
                        stop_at_eos=stop_at_eos, **sampler_options)

    def score(self, texts):
        """Log-likelihood, token count and perplexity of each text read as one line.

        Args:
            texts: a list of strings.

        Returns:
            dict of NumPy arrays (batch,): log_likelihood (nats), num_tokens, perplexity,
            unknown_words (words read as <unk>).
        """
        from rnn_pipeline.generation.score import score

        if self.preprocessor is None:
            raise ValueError("score() needs a preprocessor: build the CausalLM with "
                             "preprocessor=... or load it from a run folder.")
        return score(self, texts)


def build_causal_lm(model_config, vocabulary_size, batch_size=None, seed=0, preprocessor=None,
                    stateful=True):
    """A `CausalLM`; stateful for truncated BPTT over ``batch_size`` parallel streams.

    Args:
        model_config: a `ModelConfig`.
        vocabulary_size: number of token ids.
        batch_size: parallel streams (the stateful batch size).
        seed: initialisation seed.
        preprocessor: optional `TextPreprocessor` kept with the model for generation.
        stateful: carry the state from one window to the next (False: any batch size).
    """
    backbone = build_backbone(model_config, vocabulary_size, batch_size=batch_size,
                              stateful=stateful, seed=seed)
    with config_keys(_keys(model=model_config)):
        return CausalLM(backbone, tie_weights=model_config.tied(),
                        preprocessor=preprocessor, head=model_config.head,
                        cutoffs=model_config.cutoffs, div_value=model_config.div_value,
                        name="causal_lm")
