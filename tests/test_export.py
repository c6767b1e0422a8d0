"""Exports for TF Serving: layout, protos, a process with TensorFlow and tensorflow-text
only (never rnn_pipeline), and saved_model_cli (the Session-based loader path TF Serving
uses)."""

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner
from google.protobuf import text_format
from tensorflow_serving.apis import prediction_log_pb2
from tensorflow_serving.config import model_server_config_pb2

from rnn_pipeline.cli.main import cli
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.export import export_saved_model
from rnn_pipeline.export.graph_checks import gpu_only_ops, op_names, read_saved_model
from rnn_pipeline.tasks.causal_lm.serving import GENERATION_DEFAULTS, LanguageModelServing
from tests_support import (TINY_VOCAB, full_forward_logits, tensorflow_and_text_ops,
                           tf_only_process, tiny_lm)

VOCAB = TINY_VOCAB

@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = tiny_lm()
    base = tmp_path_factory.mktemp("saved_models")
    path, _ = export_saved_model(lambda assets: LanguageModelServing(model, assets, top_words=3),
                                 base, "tiny")
    return model, base, path


def test_tf_serving_layout_models_config_and_warmup(exported, tmp_path):
    model, base, path = exported
    assert path == base / "tiny" / "1"
    assert (path / "saved_model.pb").is_file() and (path / "variables" / "variables.index").is_file()
    assert (path / "assets" / "vocab.txt").read_text().split("\n")[:-1] == VOCAB
    assert [p.name for p in (base / "tiny").iterdir()] == ["1"]  # no staging folder left

    second, config_path = export_saved_model(
        lambda assets: LanguageModelServing(model, assets), base, "tiny")
    assert second.name == "2"
    with pytest.raises(PipelineError, match=r"^--version already exists in .*versions are never "
                                            r"overwritten \(next free: 3\)\. Received: --version=1"):
        export_saved_model(lambda assets: LanguageModelServing(model, assets), base, "tiny", 1)
    export_saved_model(lambda assets: LanguageModelServing(model, assets), base, "other")

    config = text_format.Parse(config_path.read_text(),
                               model_server_config_pb2.ModelServerConfig())
    entries = [(c.name, c.base_path, c.model_platform) for c in config.model_config_list.config]
    assert entries == [("tiny", "/models/tiny", "tensorflow"),
                       ("other", "/models/other", "tensorflow")]

    records = tf.data.TFRecordDataset(str(path / "assets.extra" / "tf_serving_warmup_requests"))
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in records]
    assert [log.predict_log.request.model_spec.signature_name for log in logs] == \
        ["serving_default", "generate", "next_words", "score"]
    assert {log.predict_log.request.model_spec.name for log in logs} == {"tiny"}
    assert list(logs[0].predict_log.request.inputs) == ["prompt"]
    assert list(tf.make_ndarray(logs[1].predict_log.request.inputs["max_tokens"])) == [5, 5]


def test_signature_defs_are_batched_predict_signatures(exported):
    _, _, path = exported
    (meta_graph,) = read_saved_model(path).meta_graphs
    signatures = meta_graph.signature_def
    expected = {
        "serving_default": ({"prompt": tf.string}, {"text": tf.string}),
        "generate": ({"prompt": tf.string, "max_tokens": tf.int32, "temperature": tf.float32,
                      "top_k": tf.int32, "seed": tf.int32}, {"text": tf.string}),
        "next_words": ({"prompt": tf.string}, {"words": tf.string, "probabilities": tf.float32}),
        "score": ({"text": tf.string}, {"log_likelihood": tf.float32, "num_tokens": tf.int32,
                                        "perplexity": tf.float32, "unknown_words": tf.int32}),
    }
    assert set(signatures) == set(expected) | {"__saved_model_init_op"}  # tables' init
    for name, (inputs, outputs) in expected.items():
        signature = signatures[name]
        assert signature.method_name == "tensorflow/serving/predict"
        for tensors, specs in ((signature.inputs, inputs), (signature.outputs, outputs)):
            assert {k: tf.as_dtype(v.dtype) for k, v in tensors.items()} == specs
            assert all(v.tensor_shape.dim[0].size == -1 for v in tensors.values())
    assert [d.size for d in signatures["next_words"].outputs["words"].tensor_shape.dim] == [-1, 3]
    # The options' defaults: in generate's SignatureDef (the metadata a client reads), and
    # only there; serving_default takes data alone.
    defaults = {name: tf.make_ndarray(value).tolist()
                for name, value in signatures["generate"].defaults.items()}
    assert defaults == {name: [value] for name, value in GENERATION_DEFAULTS.items()}
    assert [name for name in expected if signatures[name].defaults] == ["generate"]


def test_the_generation_defaults_are_those_of_the_generate_command():
    from rnn_pipeline.cli.runs import generate

    options = {param.name: param.default for param in generate.params}
    assert options["sampler"] == "top_k"  # what temperature > 0 and top_k > 0 sample with
    assert GENERATION_DEFAULTS == {name: options[name] for name in GENERATION_DEFAULTS}


def test_graph_ops_are_core_tensorflow_or_tensorflow_text(exported):
    _, _, path = exported
    ops = op_names(read_saved_model(path))
    assert gpu_only_ops(read_saved_model(path)) == []
    core, text = tensorflow_and_text_ops()  # registered before and by `import tensorflow_text`
    unknown, text_ops = ops - core - text, ops & text
    assert unknown == set() and "LookupTableFindV2" in ops & core and "WhileV2" not in text_ops


def test_a_tensorflow_only_process_and_saved_model_cli_give_the_in_memory_results(
        exported):
    model, _, path = exported
    prompts = ["the cat", "a", ""]
    requests = {
        "generate": {"prompt": prompts, "max_tokens": [6, 3, 5],
                     "temperature": [0.0, 1.3, 0.8], "top_k": [0, 0, 3], "seed": [1, 2, 3]},
        "serving_default": {"prompt": prompts},
        "next_words": {"prompt": prompts},
        "score": {"text": ["the cat sat", "", "zebra on"]},
    }
    # saved_model_cli feeds the prompt alone: the Session fills in generate's defaults
    out = tf_only_process(path, requests, cli=("generate", 'prompt=["the cat", "a"]'))
    assert out["modules"] == []  # rnn_pipeline was never imported

    assert out["generate"]["text"] == [
        model.generate("the cat", max_tokens=6, sampler="greedy"),
        model.generate("a", max_tokens=3, sampler="random", temperature=1.3, seed=2),
        model.generate("", max_tokens=5, sampler="top_k", k=3, temperature=0.8, seed=3)]
    by_default = model.generate(prompts, max_tokens=30, sampler="top_k", k=10, seed=0)
    assert out["serving_default"]["text"] == by_default
    printed = out["saved_model_cli"].split("Result for output key text:\n", 1)[1]
    assert printed.strip() == str(np.array([t.encode() for t in by_default[:2]], object))

    for prompt, words, probs in zip(prompts, out["next_words"]["words"],
                                    out["next_words"]["probabilities"]):
        ids = [1] + [VOCAB.index(w) for w in prompt.split()]
        logits = full_forward_logits(model, ids)
        expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        best = np.argsort(-expected)[:3]
        assert words == [VOCAB[i] for i in best]
        np.testing.assert_allclose(probs, expected[best], atol=1e-5)

    scores = model.score(["the cat sat", "", "zebra on"])
    np.testing.assert_allclose(out["score"]["log_likelihood"], scores["log_likelihood"], atol=1e-5)
    assert out["score"]["num_tokens"] == [4, 1, 3]  # words + the closing <eos>
    assert out["score"]["unknown_words"] == [0, 0, 1]  # "zebra" is not in the vocabulary
    ids, total = [1, 2, 3, 4, 1], 0.0  # "the cat sat" by hand, one prefix at a time
    for position in range(1, len(ids)):
        logits = full_forward_logits(model, ids[:position])
        total += logits[ids[position]] - np.log(np.exp(logits).sum())
    np.testing.assert_allclose(out["score"]["log_likelihood"][0], total, atol=1e-4)
    np.testing.assert_allclose(out["score"]["perplexity"][0], np.exp(-total / 4), rtol=1e-4)


def test_bad_requests_fail_with_the_input_named(exported):
    _, _, path = exported
    serving = tf.saved_model.load(str(path)).signatures["generate"]
    good = dict(prompt=tf.constant(["the", "a"]), temperature=tf.constant([0.0, 0.0]),
                top_k=tf.constant([0, 0]), seed=tf.constant([0, 0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"max_tokens must be in \[0, 1000\]"):
        serving(max_tokens=tf.constant([2, 5000]), **good)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="inputs prompt and seed must have the same batch size"):
        serving(max_tokens=tf.constant([2, 2]), **{**good, "seed": tf.constant([0, 1, 2])})
    # one value of an option is every row's
    one = serving(max_tokens=tf.constant([3]), **good)["text"].numpy().tolist()
    assert one == serving(max_tokens=tf.constant([3, 3]), **good)["text"].numpy().tolist()


@pytest.mark.slow  # 7 s on 2 cores: the slow suite runs it
def test_cli_exports_a_sentencepiece_run_with_its_model_as_an_asset(tiny_corpus, tmp_path):
    from conftest import tiny_config
    from rnn_pipeline.config.loader import dumps

    pipeline = tmp_path / "sp.toml"
    pipeline.write_text(dumps(tiny_config(tiny_corpus, text={"tokenizer": "sentencepiece"})))
    runner = CliRunner()
    run = tmp_path / "run"
    assert runner.invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]).exit_code == 0
    base = tmp_path / "saved_models"
    result = runner.invoke(cli, ["export", str(run), "--base", str(base), "--name", "sp"])
    assert result.exit_code == 0, result.output
    path = base / "sp" / "1"
    assert (path / "assets" / "sentencepiece.model").read_bytes() == \
        (run / "sentencepiece.model").read_bytes()

    from rnn_pipeline.tasks.causal_lm.workflow import LanguageModelWorkflow
    model = LanguageModelWorkflow.from_run(run, log=lambda *_: None).model
    texts = ["東京 で 猫 が", "the cat"]
    generation = {"prompt": texts, "max_tokens": [8, 8], "temperature": [1.0, 1.0],
                  "top_k": [0, 0], "seed": [3, 3]}
    out = tf_only_process(path, {"score": {"text": texts}, "generate": generation})
    # (the process decodes the text as strict UTF-8)
    np.testing.assert_allclose(out["score"]["log_likelihood"],
                               model.score(texts)["log_likelihood"], atol=1e-5)
    assert out["generate"]["text"] == model.generate(texts, max_tokens=8, sampler="random",
                                                     seed=3)

    again = runner.invoke(cli, ["export", str(run), "--base", str(base), "--name", "sp",
                                "--version", "1"])
    assert again.exit_code == 2
    assert again.output.strip().splitlines()[-1].startswith("Error: --version already exists")
    bad = runner.invoke(cli, ["export", str(run), "--base", str(base), "--name", "a/b"])
    assert bad.exit_code == 2 and "Error: --name must be ASCII letters, digits" in bad.output


def test_the_export_of_a_fitted_run_generates_what_the_cli_generates(fitted_lm_run,
                                                                     exported_lm_run):
    import stat

    runner = CliRunner()
    base = exported_lm_run  # exported through the CLI under umask 0o022, once per session
    # Version folders get the umask's mode, not mkdtemp's private 0o700 (was its own test,
    # an export of its own).
    assert stat.S_IMODE((base / "tiny" / "1").stat().st_mode) == 0o755
    # The export's samplers, one per row: temperature 0 is greedy, top_k 0 the whole vocabulary.
    rows = {"greedy": (0.0, 0), "random": (1.0, 0), "top_k": (1.0, 3)}
    request = {"prompt": ["the cat"] * 3, "max_tokens": [5] * 3,
               "temperature": [t for t, _ in rows.values()],
               "top_k": [k for _, k in rows.values()], "seed": [4] * 3}
    out = tf_only_process(base / "tiny" / "1", {"generate": request,
                                                "serving_default": {"prompt": ["the cat"]}})
    for sampler, text in zip(rows, out["generate"]["text"]):
        expected = runner.invoke(cli, ["generate", str(fitted_lm_run), "--prompt", "the cat",
                                       "--max-tokens", "5", "--sampler", sampler,
                                       "--top-k", "3", "--seed", "4"])
        assert expected.exit_code == 0, expected.output
        assert text == expected.output.rstrip("\n"), sampler
    # serving_default, the prompt alone: `rnn-pipeline generate` with its own defaults
    expected = runner.invoke(cli, ["generate", str(fitted_lm_run), "--prompt", "the cat"])
    assert expected.exit_code == 0, expected.output
    assert out["serving_default"]["text"] == [expected.output.rstrip("\n")]


def test_export_mistakes_are_one_line_and_leave_nothing_behind(fitted_lm_run, tmp_path):
    runner = CliRunner()
    base = tmp_path / "new" / "saved_models"

    def export(*args):
        return runner.invoke(cli, ["export", str(fitted_lm_run), "--base", str(base), *args])

    too_many = export("--top-words", "100000")
    assert too_many.exit_code == 2, too_many.output
    vocabulary = len((fitted_lm_run / "vocab.txt").read_text().splitlines())
    assert too_many.output.strip().splitlines() == [
        f"Error: top_words must be in [1, {vocabulary}]. Received: top_words=100000"]
    assert not (tmp_path / "new").exists()  # not even the folders the export would create
    empty_name = export("--name", "")
    assert empty_name.exit_code == 2
    assert empty_name.output.startswith("Error: --name must be ASCII letters, digits")
    base.mkdir(parents=True)
    (base / "models.config").write_text("this is { not a proto")
    garbage = export()
    assert garbage.exit_code == 2
    assert garbage.output.startswith(f"Error: {base / 'models.config'} must be a "
                                     f"ModelServerConfig text proto to be updated.")
    assert sorted(p.name for p in base.iterdir()) == ["models.config"]
