"""Signatures a client calls with its data alone: the export's generation defaults
(``rnn-pipeline export --max-tokens ...``) and a translation model's ``attention``."""

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.export.graph_checks import read_saved_model
from rnn_pipeline.tasks.causal_lm.serving import generation_defaults
from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow
from tests_support import export_run, tf_only_process


def _defaults(path):
    """{option: values} of the ``generate`` SignatureDef's defaults."""
    (meta_graph,) = read_saved_model(path).meta_graphs
    return {name: tf.make_ndarray(value).tolist()
            for name, value in meta_graph.signature_def["generate"].defaults.items()}


@pytest.mark.slow  # 10 s on 2 cores: the slow suite runs it
def test_export_options_become_serving_defaults(fitted_lm_run, tmp_path):
    runner = CliRunner()
    base = tmp_path / "saved_models"

    def export(*args):
        return runner.invoke(cli, ["export", str(fitted_lm_run), "--base", str(base), *args])

    done = export("--max-tokens", "4", "--temperature", "0", "--top-k", "0", "--seed", "7")
    assert done.exit_code == 0, done.output
    path = base / "tiny" / "1"
    assert _defaults(path) == {"max_tokens": [4], "temperature": [0.0], "top_k": [0],
                               "seed": [7]}
    prompts = ["the cat", ""]
    out = tf_only_process(path, {"serving_default": {"prompt": prompts}})
    model = LanguageModelWorkflow.from_run(fitted_lm_run, log=lambda *_: None).model
    assert out["serving_default"]["text"] == model.generate(prompts, max_tokens=4,
                                                            sampler="greedy")

    too_many = export("--max-tokens", "50", "--max-tokens-limit", "10")
    assert too_many.exit_code == 2
    assert too_many.output.strip().splitlines() == [
        "Error: --max-tokens must be in [0, 10] (--max-tokens-limit). Received: "
        "--max-tokens=50"]
    assert [p.name for p in (base / "tiny").iterdir()] == ["1"]


def test_the_default_max_tokens_is_cut_to_the_limit_and_every_option_is_checked():
    assert generation_defaults(10) == {"max_tokens": 10, "temperature": 1.0, "top_k": 10,
                                       "seed": 0}
    assert generation_defaults(1000, temperature=0.0)["temperature"] == 0.0
    for option, value, rule in [
            ("max_tokens", -1, "must be in [0, 1000] (--max-tokens-limit)"),
            ("top_k", -3, "must be in [0, 2147483647] (0: the whole vocabulary)"),
            ("seed", 2**31, "must be in [0, 2147483647]"),
            ("temperature", float("nan"), "must be a finite number (<= 0 is greedy)")]:
        argument = "--" + option.replace("_", "-")
        with pytest.raises(PipelineError) as caught:
            generation_defaults(1000, **{option: value})
        assert str(caught.value) == f"{argument} {rule}. Received: {argument}={value!r}"


def test_a_translation_export_shows_where_attention_looked(fitted_translation, tmp_path):
    from rnn_pipeline.tasks.translation.data import PAD_ID, source_ids, target_arrays
    from rnn_pipeline.tasks.translation.workflow import TranslationWorkflow

    _, run = fitted_translation
    refused = CliRunner().invoke(cli, ["export", str(run), "--top-k", "3",
                                       "--base", str(tmp_path / "refused")])
    assert refused.exit_code == 2 and refused.output.startswith(
        "Error: --top-k applies to 'causal_lm' runs only, not to a 'translation' run.")
    path = export_run(run, tmp_path)
    sources = ["red cat runs", "quick zebra", ""]
    translations = ["RUNS RED CAT", "", "XY"]
    out = tf_only_process(path, {"attention": {"source": sources,
                                               "translation": translations}})["attention"]
    source_tokens, target_tokens = (np.array(out[key], object)
                                    for key in ("source_tokens", "target_tokens"))
    weights = np.array(out["attention"])  # (batch, T, S)

    model = TranslationWorkflow.from_run(run, log=lambda *_: None).model
    ids = source_ids(model.source_preprocessor, tf.constant(sources)).numpy()  # (batch, S)
    vocabulary = model.source_preprocessor.vocabulary
    assert source_tokens.tolist() == [[vocabulary[i] if i != PAD_ID else "" for i in row]
                                      for row in ids]
    assert source_tokens[1].tolist() == ["quick", "<unk>", "<eos>", ""]
    assert target_tokens.tolist() == [list("RUNS RED CAT") + ["<eos>"],
                                      ["<eos>"] + [""] * 12, ["X", "Y", "<eos>"] + [""] * 10]
    assert weights.shape == (3, 13, 4) == (3, *target_tokens.shape[1:], *ids.shape[1:])
    real_source, real_target = source_tokens != "", target_tokens != ""  # (batch, S), (batch, T)
    np.testing.assert_allclose(weights.sum(axis=2)[real_target], 1.0, rtol=1e-5)
    assert (weights * ~real_source[:, None, :] == 0).all()  # no weight on padding
    assert (weights[~real_target] == 0).all()  # nor rows of it
    decoder_in = target_arrays(model.target_preprocessor, tf.constant(translations))[0]
    expected = model.attention_weights(tf.constant(ids), decoder_in).numpy()
    np.testing.assert_allclose(weights, expected * real_target[:, :, None], atol=1e-6)


def test_a_translator_without_attention_has_no_attention_signature(fitted_translation,
                                                                   tmp_path):
    from rnn_pipeline.tasks.translation.model import Seq2SeqTranslator
    from rnn_pipeline.tasks.translation.serving import TranslationServing
    from rnn_pipeline.tasks.translation.workflow import TranslationWorkflow

    workflow = TranslationWorkflow.from_run(fitted_translation[1], log=lambda *_: None)
    trained = workflow.model
    plain = Seq2SeqTranslator(trained.source_vocabulary_size, trained.target_vocabulary_size,
                              trained.pad_id, cell="gru", embedding_dim=4, units=4,
                              attention="none", source_preprocessor=trained.source_preprocessor,
                              target_preprocessor=trained.target_preprocessor)
    module = TranslationServing(plain, tmp_path, workflow.config.decode)
    assert sorted(module.signatures()) == ["serving_default"]
    assert sorted(module.warmup_inputs()) == ["serving_default"]
    with pytest.raises(PipelineError, match="^attention must not be 'none'"):
        plain.attention_weights(tf.constant([[4, 1]]), tf.constant([[3]]))
