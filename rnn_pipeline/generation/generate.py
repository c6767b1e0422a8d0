"""Generating text from prompts: prompt read and token loop inside one `tf.function`."""

import warnings

import tensorflow as tf

from rnn_pipeline.data.vocabulary import EOS, UNK
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.generation.beam import beam_search
from rnn_pipeline.generation.samplers import (BeamSearch, GreedySampler, ServingSampler,
                                              make_sampler)
from rnn_pipeline.generation.stepper import RecurrentStepper, stack_steps
from rnn_pipeline.limits import MAX_GENERATED_TOKENS, MAX_SEED


def _token_loop(stepper, logits, state, steps, sampler, seeds):
    """``steps`` tokens of every row from ``logits``/``state``; int32 (batch, steps)."""
    batch = tf.shape(seeds)[0]

    def body(t, logits, state, tokens):
        row_seeds = tf.stack([seeds, tf.fill([batch], t)], axis=1)  # (batch, 2)
        token = sampler(logits, row_seeds)  # (batch,)
        logits, state = stepper.step(token, state)
        return t + 1, logits, state, tokens.write(t, token)

    _, _, _, tokens = tf.while_loop(
        lambda t, *_: t < steps, body,
        (tf.constant(0), logits, state, tf.TensorArray(tf.int32, size=steps)))
    return stack_steps(tokens, batch)  # (batch, steps)


def generate_ids(stepper, prompt_ids, max_tokens, sampler, seed, eos_id, stop_at_eos=False):
    """Continues every prompt by ``max_tokens`` tokens; graph code (loops are tf.while_loop).

    Args:
        stepper: a `RecurrentStepper`.
        prompt_ids: int32 RaggedTensor (batch, None); an empty prompt starts from ``<eos>``.
        max_tokens: int32 scalar, or (batch,) for a limit per row.
        sampler: a sampler from `make_sampler` (or a `ServingSampler`).
        seed: int32 scalar or (batch,); a row's tokens depend on its seed and prompt only.
        eos_id: id of ``<eos>``.
        stop_at_eos: bool; stop a row at its first ``<eos>`` (which is not returned).

    Returns:
        int32 RaggedTensor (batch, None) of generated ids.
    """
    stop_at_eos = tf.convert_to_tensor(stop_at_eos, tf.bool)
    batch = prompt_ids.nrows(out_type=tf.int32)
    row_limits = tf.broadcast_to(tf.cast(max_tokens, tf.int32), [batch])  # (batch,)
    steps = tf.reduce_max(tf.concat([row_limits, [0]], axis=0))
    seeds = tf.broadcast_to(tf.cast(seed, tf.int32), [batch])  # (batch,)
    logits, state = stepper.read_prompts(prompt_ids, eos_id)
    if isinstance(sampler, BeamSearch):
        tokens = beam_search(stepper, logits, state, steps, sampler.num_beams, eos_id,
                             stop_at_eos)
    elif isinstance(sampler, ServingSampler):  # the choice is made once, not per token
        tokens = tf.cond(sampler.any_sampling(),
                         lambda: _token_loop(stepper, logits, state, steps, sampler, seeds),
                         lambda: _token_loop(stepper, logits, state, steps, GreedySampler(),
                                             seeds))
    else:
        tokens = _token_loop(stepper, logits, state, steps, sampler, seeds)
    is_eos = tf.cast(tokens == eos_id, tf.int32)
    before_eos = tf.reduce_sum(tf.cast(tf.cumsum(is_eos, axis=1) == 0, tf.int32), axis=1)
    lengths = tf.where(stop_at_eos, tf.minimum(before_eos, row_limits), row_limits)
    return tf.RaggedTensor.from_tensor(tokens, lengths=lengths)


def warn_out_of_vocabulary(preprocessor, prompts):
    """Warns which prompt words are not in the vocabulary (they become ``<unk>``)."""
    tokens = preprocessor.tokens(tf.constant(prompts)).flat_values
    ids = preprocessor.lookup(tokens).numpy()
    unknown = sorted({t.decode("utf-8") for t, i in zip(tokens.numpy(), ids)
                      if i == 0 and t.decode("utf-8") != UNK})
    if unknown:
        warnings.warn(f"Out-of-vocabulary prompt words become {UNK}: "
                      f"{', '.join(map(repr, unknown))}", stacklevel=3)
    return unknown


def generate(model, prompts, max_tokens=50, sampler="greedy", seed=0, stop_at_eos=False,
             preprocessor=None, **sampler_options):
    """Generates a continuation of each prompt.

    Args:
        model: a trained `CausalLM` (with ``model.preprocessor`` or ``preprocessor`` given).
        prompts: a string or a list of strings (batched).
        max_tokens: tokens to generate per prompt, in [0, `MAX_GENERATED_TOKENS`] (0
            returns the prompts).
        sampler: "greedy", "random", "top_k", "top_p" or "beam".
        seed: seed of the random samplers, in [0, `MAX_SEED`].
        stop_at_eos: stop a prompt's continuation at ``<eos>``.
        preprocessor: the `TextPreprocessor`; defaults to ``model.preprocessor``.
        **sampler_options: temperature, k, p or num_beams.

    Returns:
        list of strings: each prompt followed by its continuation.
    """
    if not 0 <= max_tokens <= MAX_GENERATED_TOKENS:
        raise pipeline_error("max_tokens", f"must be in [0, {MAX_GENERATED_TOKENS}]", max_tokens)
    if not 0 <= seed <= MAX_SEED:  # seeds above 2**31 keep their bits as int32
        raise pipeline_error("seed", f"must be in [0, {MAX_SEED}]", seed)
    single = isinstance(prompts, str)
    prompts = [prompts] if single else list(prompts)
    preprocessor = preprocessor or model.preprocessor
    sampler = make_sampler(sampler, **sampler_options)
    warn_out_of_vocabulary(preprocessor, prompts)
    stepper = RecurrentStepper(model)
    eos_id = preprocessor.vocabulary.index(EOS)

    @tf.function
    def run(prompts_tensor, max_tokens, seed):
        ids = generate_ids(stepper, preprocessor(prompts_tensor), max_tokens, sampler, seed,
                           eos_id, stop_at_eos)
        return preprocessor.join(prompts_tensor, preprocessor.detokenize(ids))

    texts = run(tf.constant(prompts), tf.constant(max_tokens, tf.int32),
                tf.constant(seed, tf.int32))
    texts = [t.decode("utf-8") for t in texts.numpy()]
    return texts[0] if single else texts
