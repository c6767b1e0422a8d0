"""Generation: samplers, beam search, prompts, seeds, in-graph loop."""

import warnings

import numpy as np
import pytest
import tensorflow as tf

from rnn_pipeline.errors import PipelineError
from rnn_pipeline.generation import RecurrentStepper, generate_ids, make_sampler
from tests_support import TINY_VOCAB as VOCAB
from tests_support import full_forward_logits, tiny_lm

EOS = 1


def _ids(model, prompts, max_tokens, sampler, seed=0, stop_at_eos=False):
    ragged = model.preprocessor(tf.constant(prompts))
    out = generate_ids(RecurrentStepper(model), ragged, tf.constant(max_tokens), sampler,
                       tf.constant(seed), EOS, stop_at_eos)
    return out.to_list()


@pytest.mark.parametrize("cell, tie", [("lstm", False), ("gru", True), ("simple_rnn", False)])
def test_greedy_equals_argmax_decoding_step_by_step(cell, tie):
    model = tiny_lm(cell, tie)
    (generated,) = _ids(model, ["the cat"], 6, make_sampler("greedy"))
    context = [EOS, 2, 3]
    for token in generated:
        expected = int(np.argmax(full_forward_logits(model, context)))
        assert token == expected
        context.append(token)


def test_top_k_never_leaves_the_k_best():
    model = tiny_lm()
    for seed in range(4):
        (generated,) = _ids(model, ["the dog"], 8, make_sampler("top_k", k=2), seed=seed)
        context = [EOS, 2, 8]
        for token in generated:
            best = np.argsort(full_forward_logits(model, context))[-2:]
            assert token in best
            context.append(token)


def test_beam_with_one_beam_equals_greedy():
    model = tiny_lm("gru")
    prompts = ["the cat sat", "a", ""]
    assert _ids(model, prompts, 7, make_sampler("beam", num_beams=1)) == \
        _ids(model, prompts, 7, make_sampler("greedy"))


def test_beam_finds_a_sequence_at_least_as_likely_as_greedy():
    model = tiny_lm()

    def log_prob(tokens):
        context, total = [EOS, 2], 0.0
        for token in tokens:
            logits = full_forward_logits(model, context)
            total += logits[token] - np.log(np.exp(logits).sum())
            context.append(token)
        return total

    (greedy,) = _ids(model, ["the"], 4, make_sampler("greedy"))
    (beam,) = _ids(model, ["the"], 4, make_sampler("beam", num_beams=4))
    assert log_prob(beam) >= log_prob(greedy) - 1e-4


def test_same_seed_same_text_and_other_seeds_differ():
    model = tiny_lm()
    sampler = make_sampler("random", temperature=1.5)
    first = model.generate(["the cat", "a dog"], max_tokens=12, sampler="random", seed=5,
                           temperature=1.5)
    assert first == model.generate(["the cat", "a dog"], max_tokens=12, sampler="random",
                                   seed=5, temperature=1.5)
    others = {tuple(_ids(model, ["the cat"], 12, sampler, seed=s)[0]) for s in range(6)}
    assert len(others) > 1


def test_batched_prompts_of_different_lengths_match_single_prompts():
    model = tiny_lm()
    prompts = ["the cat sat on", "a", ""]
    batched = _ids(model, prompts, 5, make_sampler("greedy"))
    assert batched == [_ids(model, [p], 5, make_sampler("greedy"))[0] for p in prompts]


def test_empty_prompt_starts_from_eos_and_stop_at_eos():
    model = tiny_lm()
    (from_empty,) = _ids(model, [""], 5, make_sampler("greedy"))
    context = [EOS]
    assert from_empty[0] == int(np.argmax(full_forward_logits(model, context)))
    head_bias = model.lm_head.bias
    head_bias.assign(head_bias.numpy() + 3.0 * (np.arange(len(VOCAB)) == EOS))  # eos likely
    prompts, sampler = ["the", "cat", "dog", "a", "mat", "on"], make_sampler("random")
    long = _ids(model, prompts, 20, sampler, seed=3)
    stopped = _ids(model, prompts, 20, sampler, seed=3, stop_at_eos=True)
    for full, cut in zip(long, stopped):
        assert EOS not in cut
        assert cut == (full[:full.index(EOS)] if EOS in full else full)
    assert any(EOS in full for full in long)  # the check above saw a real stop


def test_generate_returns_prompt_plus_continuation_and_warns_on_oov():
    model = tiny_lm()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = model.generate("the zebra", max_tokens=3)
    assert text.startswith("the zebra ") and len(text.split()) >= 3
    assert any("'zebra'" in str(w.message) for w in caught)
    assert all(word in VOCAB[2:] for word in text.split()[2:])


def test_sampler_options_are_checked():
    with pytest.raises(PipelineError, match=r"^sampler must be one of: 'beam', 'greedy', "
                                            r"'random', 'top_k', 'top_p'"):
        make_sampler("nucleus")
    for temperature in (0.0, float("nan"), float("inf")):
        with pytest.raises(PipelineError, match=r"^temperature must be a positive finite "
                                                r"number\. Received: temperature="):
            make_sampler("random", temperature=temperature)
    with pytest.raises(PipelineError, match=r"^top_p must be in \(0, 1\]"):
        make_sampler("top_p", p=1.5)


@pytest.mark.parametrize("sampler", ["random", "top_k", "top_p"])
def test_a_tiny_temperature_samples_greedily(sampler):
    model = tiny_lm()
    prompts = ["the cat", "a", ""]
    greedy = _ids(model, prompts, 6, make_sampler("greedy"))
    for seed in (0, 1):  # 1e-45 is float32's smallest subnormal: logits / T overflow
        assert _ids(model, prompts, 6, make_sampler(sampler, temperature=1e-45), seed) == greedy


def test_top_p_keeps_the_nucleus():
    logits = tf.math.log(tf.constant([[0.5, 0.3, 0.15, 0.05]]))
    sampler = make_sampler("top_p", p=0.7)
    drawn = {int(sampler(logits, tf.constant([[s, 0]]))[0]) for s in range(40)}
    assert drawn == {0, 1}


def test_a_row_depends_on_its_own_prompt_and_seed_only():
    model = tiny_lm()
    sampler = make_sampler("top_k", k=4, temperature=1.3)
    prompts = ["the cat", "a dog ran", ""]
    batched = _ids(model, prompts, 9, sampler, seed=[3, 4, 5])
    alone = [_ids(model, [p], 9, sampler, seed=s)[0] for p, s in zip(prompts, [3, 4, 5])]
    assert batched == alone


def test_serving_sampler_matches_the_registry_samplers_row_by_row():
    from rnn_pipeline.generation.samplers import ServingSampler

    model = tiny_lm()
    prompts, seeds = ["the cat", "a", "dog"], [7, 8, 9]
    serving = ServingSampler(tf.constant([0.0, 1.5, 0.8]), tf.constant([5, 0, 3]))
    rows = _ids(model, prompts, [6, 4, 8], serving, seed=seeds)
    expected = [_ids(model, [prompts[0]], 6, make_sampler("greedy"), seed=7)[0],
                _ids(model, [prompts[1]], 4, make_sampler("random", temperature=1.5), seed=8)[0],
                _ids(model, [prompts[2]], 8, make_sampler("top_k", k=3, temperature=0.8),
                     seed=9)[0]]
    assert rows == expected and [len(r) for r in rows] == [6, 4, 8]
