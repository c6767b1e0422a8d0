"""``train.precision``: which machines `auto` picks bfloat16 on and why, the policy set
for the fit only, and a bfloat16 fit whose saved model is float32."""

import json

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_PIPELINE, write_tiny_corpus
from rnn_pipeline.cli.main import cli
from rnn_pipeline.training.precision import (bfloat16_units, cpu_flags, resolve_precision,
                                             training_precision, xla_for)
from tests_support import assert_one_line_error, tiny_lm


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\n"
                       "flags\t\t: fpu avx512f avx512_bf16 amx_tile\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx512f", "avx512_bf16", "amx_tile"}
    assert cpu_flags(tmp_path / "missing") == set()


@pytest.mark.parametrize("flags, gpus, resolved, why", [
    ({"amx_bf16", "avx512_bf16"}, [], "mixed_bfloat16",
     "the CPU has AMX (amx_bf16) and AVX512-BF16 (avx512_bf16)"),
    ({"avx512_bf16"}, [], "mixed_bfloat16", "the CPU has AVX512-BF16 (avx512_bf16)"),
    ({"avx2", "avx512f"}, [], "float32",
     "no GPU is visible and the CPU has neither amx_bf16 nor avx512_bf16"),
])
def test_auto_picks_bfloat16_only_on_bfloat16_units_and_says_why(flags, gpus, resolved, why):
    lines = []
    assert resolve_precision("auto", lines.append, flags=flags, gpus=gpus) == resolved
    assert lines == [f"train.precision = 'auto': {resolved}, because {why}"]
    assert resolve_precision("float32", lines.append, flags=flags, gpus=gpus) == "float32"
    assert len(lines) == 1  # an explicit choice is not explained


def test_auto_keeps_float32_on_a_cpu_for_a_model_that_trains_faster_in_it():
    lines = []
    reason = "the adaptive head trains faster in float32 with train.jit_compile"
    assert resolve_precision("auto", lines.append, flags={"avx512_bf16"}, gpus=[],
                             cpu_float32_reason=reason) == "float32"
    assert lines == ["train.precision = 'auto': float32, because the CPU has AVX512-BF16 "
                     f"(avx512_bf16), but {reason}"]
    gpu = type("Device", (), {"name": "/device:GPU:0"})()
    assert resolve_precision("auto", flags=set(), gpus=[gpu],
                             cpu_float32_reason=reason) == "mixed_bfloat16"
    assert resolve_precision("mixed_bfloat16", flags={"avx512_bf16"}, gpus=[],
                             cpu_float32_reason=reason) == "mixed_bfloat16"


def test_only_the_adaptive_head_gives_a_reason_for_float32():
    assert tiny_lm().cpu_float32_reason() is None
    adaptive = tiny_lm(cutoffs=(4,))
    assert "adaptive head" in adaptive.cpu_float32_reason()


def test_a_gpu_counts_as_bfloat16_units():
    class Device:
        name = "/device:GPU:0"
    assert bfloat16_units(flags=set(), gpus=[Device()]) == (
        True, "a GPU is visible (/device:GPU:0)")


def test_bfloat16_on_a_cpu_runs_without_xla_and_says_so():
    lines = []
    assert xla_for("mixed_bfloat16", True, lines.append) is False
    assert "off for mixed_bfloat16 on a CPU" in lines[0]
    assert xla_for("float32", True, lines.append) is True
    assert xla_for("mixed_bfloat16", False, lines.append) is False and len(lines) == 1


def test_the_policy_holds_for_the_block_only_and_lstms_stay_float32():
    model = tiny_lm()
    before = model.get_config()
    lstm = model.backbone.rnn_layers[0]
    model.compile(optimizer="sgd")
    ids = np.array([[1, 2, 3], [3, 2, 1]], np.int32)
    reference, _ = model.forward_loss(ids, ids, training=True)
    with training_precision(model, "mixed_bfloat16"):
        embedding = model.backbone.token_embedding
        assert embedding.compute_dtype == "bfloat16" and embedding.variable_dtype == "float32"
        assert lstm.compute_dtype == "float32"  # its states and recurrence
        assert lstm.training_projection_dtype == "bfloat16"
        assert model.lm_head.compute_dtype == "float32"  # the bias is added in float32
        assert model.training_product_dtype == "bfloat16"
        loss, nll = model.forward_loss(ids, ids, training=True)
        assert nll.dtype == "float32"
        assert float(loss) == pytest.approx(float(reference), rel=2e-2)  # bfloat16 products
        assert float(loss) != float(reference)
    policies = {layer.dtype_policy.name for layer in model._flatten_layers()}
    assert "float32" in policies and "mixed_bfloat16" not in policies
    assert lstm.training_projection_dtype is None and model.training_product_dtype is None
    assert model.get_config() == before
    assert model(np.array([[1, 2, 3], [3, 2, 1]], np.int32)).dtype == "float32"


@pytest.fixture
def pipeline(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_PIPELINE.format(**write_tiny_corpus(tmp_path)))
    return path


def test_a_bfloat16_fit_saves_a_float32_model(pipeline, tmp_path):
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, [
        "fit", str(pipeline), "--run-dir", str(run), "--set", 'train.precision="mixed_bfloat16"',
        "--set", "train.jit_compile=true"])
    assert result.exit_code == 0, result.output
    assert "train.jit_compile: off for mixed_bfloat16 on a CPU" in result.output
    model = keras.saving.load_model(run / "model.keras")
    policies = {layer.dtype_policy.name for layer in model._flatten_layers()}
    assert "float32" in policies and "mixed_bfloat16" not in policies
    final = json.loads((run / "metrics.json").read_text())["final"]
    assert np.isfinite(final["test_perplexity"])


@pytest.mark.parametrize("override, expected", [
    ('train.precision="bf16"',
     "train.precision must be one of: 'auto', 'float32', 'mixed_bfloat16'. "
     "Received: train.precision='bf16'"),
    ('train.recurrence="cudnn"', "train.recurrence must be one of: 'fused', 'loop', "
                                 "'unrolled'. Received: train.recurrence='cudnn'"),
])
def test_an_unknown_precision_or_recurrence_is_one_line(pipeline, tmp_path, override, expected):
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run),
                                      "--set", override])
    assert_one_line_error(result, expected, absent=[run])


def test_fused_with_xla_is_one_line(pipeline, tmp_path):
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run), "--set",
                                      'train.recurrence="fused"', "--set",
                                      "train.jit_compile=true"])
    assert_one_line_error(result, "train.recurrence must not be 'fused' with train.jit_compile "
                                  "= true: BlockLSTMV2 has no XLA kernel", absent=[run])
