import dataclasses
import os
import re
import typing

import pytest

from rnn_pipeline import config as config_lib
from rnn_pipeline.config import schema
from rnn_pipeline.tasks.causal_lm.config import LanguageModelConfig
from rnn_pipeline.tasks.forecast import config as forecast_config
from rnn_pipeline.tasks.translation import config as translation_config
from rnn_pipeline.tasks.translation.config import TranslationConfig
from rnn_pipeline.config.bundled import bundled_names, resolve_pipeline
from rnn_pipeline.errors import PipelineError


@pytest.mark.parametrize("name", bundled_names())
def test_bundled_pipelines_round_trip(name):
    config = config_lib.load(resolve_pipeline(name))
    assert config_lib.loads(config_lib.dumps(config)) == config


def test_round_trip_keeps_none_and_changed_values():
    config = config_lib.apply_overrides(LanguageModelConfig(), [
        "train.clipnorm=0.5", "train.global_clipnorm=none", "text.max_size=100",
        "data.train=['a.txt', 'b*.txt']", "model.cell=gru", "model.dropout=0.25",
        "text.lowercase=false"])
    text = config_lib.dumps(config)
    assert 'global_clipnorm = "none"' in text  # None where the recipe's default is 1.0
    assert "\nclipnorm = 0.5" in text and "max_rows" not in text  # a None default: left out
    again = config_lib.loads(text)
    assert again == config
    assert again.train.clipnorm == 0.5 and again.train.global_clipnorm is None
    # a relative path given with --set is relative to the current folder: saved absolute
    assert again.data.train == [os.path.abspath("a.txt"), os.path.abspath("b*.txt")]
    assert again.text.lowercase is False


def test_a_pipeline_with_only_data_gets_the_language_model_recipe():
    config = config_lib.loads('[data]\ncorpus = "files"\ntrain = ["my.txt"]\n')
    assert (config.text.tokenizer, config.text.lowercase, config.text.max_size,
            config.text.min_frequency) == ("unicode_script", True, 5000, 2)
    assert (config.model.cell, config.model.num_layers, config.model.units,
            config.model.dropout, config.model.embedding_dropout,
            config.model.tie_weights, config.model.tied()) == ("lstm", 1, 200, 0.4, 0.1, None,
                                                               True)
    assert (config.train.optimizer, config.train.learning_rate, config.train.global_clipnorm,
            config.train.clipnorm, config.train.schedule, config.train.batch_size,
            config.train.bptt, config.train.epochs) == ("adam", 0.01, 1.0, None, "plateau",
                                                        32, 35, 8)
    adaptive = config_lib.apply_overrides(config, ["model.head=adaptive"])
    assert adaptive.model.tie_weights is None and not adaptive.model.tied()  # untied by default
    # the other tasks keep the plain (Keras-like) defaults
    forecast = config_lib.loads('task = "forecast"\n[series]\ndataset = "airline_passengers"\n')
    assert forecast.train.learning_rate == 0.002 and forecast.train.global_clipnorm is None


def test_a_run_written_before_the_recipe_reads_its_none_values(tmp_path):
    """Before the recipe a None was always left out of a run's config.toml: a run folder
    missing an optional key reads None there, where a pipeline file reads the default."""
    from rnn_pipeline.runs import RunFolder

    text = ('name = "old"\ntask = "causal_lm"\n[data]\ncorpus = "pydoc_topics"\n'
            '[text]\ntokenizer = "whitespace"\nmin_frequency = 1\n'
            '[train]\nlearning_rate = 0.002\n')
    (tmp_path / "config.toml").write_text(text)
    old = RunFolder(tmp_path).load_config()
    assert old.text.max_size is None and old.train.global_clipnorm is None
    assert old.text.min_frequency == 1 and old.train.learning_rate == 0.002
    assert config_lib.loads(text).text.max_size == 5000  # a pipeline file: the recipe


def test_strings_with_any_character_round_trip():
    import tomllib

    odd = ["two\nlines", "tab\there", 'quote " and back\\slash', "bell\a del\x7f nul\x00",
           "cr\r\nlf", "日本語 ünïcödé \u2028", ""]
    config = dataclasses.replace(LanguageModelConfig(),
                                 data=schema.DataConfig(train=odd, encoding="x\ty"))
    text = config_lib.dumps(config)
    tomllib.loads(text)  # valid TOML
    again = config_lib.loads(text)
    assert again == config and again.data.train == odd and again.data.encoding == "x\ty"


@pytest.mark.parametrize("text, expected", [
    ("[train]\nlearning_rate = nan", "train.learning_rate must be a finite number (not nan or "
                                      "inf). Received: train.learning_rate=nan"),
    ("[train]\nlearning_rate = inf", "Received: train.learning_rate=inf"),
    ("[model]\ndropout = -inf", "model.dropout must be a finite number"),
    ("[train]\nepochs = 0", "train.epochs must be in [1, 100000]. Received: train.epochs=0"),
    ("[word2vec]\nepochs = 100000000000000000000", "word2vec.epochs must be in [1, 100000]. "
     "Received: word2vec.epochs=100000000000000000000"),
    ("[word2vec]\nwindow = 0", "word2vec.window must be in [1, 1000]. Received: "
     "word2vec.window=0"),
])
def test_non_finite_numbers_and_zero_epochs_are_refused_at_load(text, expected):
    with pytest.raises(PipelineError, match=r"^p.toml: .*" + re.escape(expected)):
        config_lib.loads(text, source="p.toml")
    key, value = text.split("\n")[1].split(" = ")
    section = text.split("]")[0][1:]
    with pytest.raises(PipelineError, match=r"^--set: .*" + re.escape(expected)):
        config_lib.apply_overrides(LanguageModelConfig(), [f"{section}.{key}={value}"])


def test_an_empty_or_non_utf8_pipeline_file_is_one_error(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("# only a comment\n")
    with pytest.raises(PipelineError, match=r"^\S*empty.toml has no settings: an empty pipeline "
                                            r"would train the schema's defaults"):
        config_lib.load(empty)
    sjis = tmp_path / "sjis.toml"
    sjis.write_bytes('name = "猫"\n'.encode("shift_jis"))
    with pytest.raises(PipelineError, match=r"^\S*sjis.toml must be UTF-8 text \(TOML files are "
                                            r"UTF-8\); byte offset 8 is not"):
        config_lib.load(sjis)


def test_every_optional_field_of_the_plain_sections_defaults_to_none():
    # The plain sections leave a None out of the TOML file (the recipe's write "none").
    for cls in (schema.DataConfig, schema.TextConfig, schema.ModelConfig, schema.TrainConfig,
                forecast_config.ForecastModelConfig, translation_config.TranslationModelConfig,
                forecast_config.SeriesConfig, translation_config.PairsConfig):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if type(None) in typing.get_args(hints[f.name]):
                assert f.default is None, f"{cls.__name__}.{f.name}"


def test_unknown_key_is_named_with_the_closest_suggestion():
    with pytest.raises(PipelineError) as info:
        config_lib.loads("[model]\ncel = 'gru'\n", source="p.toml")
    message = str(info.value)
    assert message.startswith("p.toml: Unknown config key 'model.cel'. Did you mean 'model.cell'?")
    assert "Received: model.cel='gru'" in message


def test_unknown_section_is_rejected():
    with pytest.raises(PipelineError, match=r"Unknown config key 'modle' in a 'causal_lm' "
                                            r"pipeline. Did you mean 'model'"):
        config_lib.loads("[modle]\ncell = 'gru'\n")


@pytest.mark.parametrize("text, expected", [
    ("[train]\nepochs = 'many'\n", "train.epochs must be an integer. Received: train.epochs='many'"),
    ("[train]\nepochs = true\n", "train.epochs must be an integer. Received: train.epochs=True"),
    ("[model]\ntie_weights = 1\n", "model.tie_weights must be true or false. "
                                   "Received: model.tie_weights=1"),
    ("[model]\ndropout = 'x'\n", "model.dropout must be a number. Received: model.dropout='x'"),
    ("model = 3\n", "model must be a table (section). Received: model=3"),
])
def test_wrong_types_are_named(text, expected):
    with pytest.raises(PipelineError) as info:
        config_lib.loads(text, source="p.toml")
    assert str(info.value) == f"p.toml: {expected}"


def test_integer_is_accepted_where_a_number_is_expected():
    assert config_lib.loads("[train]\nlearning_rate = 1\n").train.learning_rate == 1.0


def test_overrides_parse_toml_values_and_bare_strings():
    config = config_lib.apply_overrides(LanguageModelConfig(), ["model.cell=gru", "train.epochs=3",
                                                           "train.global_clipnorm=5"])
    assert (config.model.cell, config.train.epochs, config.train.global_clipnorm) == ("gru", 3, 5.0)
    with pytest.raises(PipelineError, match=r"^--set must look like key.path=value"):
        config_lib.apply_overrides(LanguageModelConfig(), ["model.cell"])
    with pytest.raises(PipelineError, match=r"^--set: Unknown config key 'train.epoch'. "
                                            r"Did you mean 'train.epochs'"):
        config_lib.apply_overrides(LanguageModelConfig(), ["train.epoch=3"])


def test_none_unsets_an_optional_number_but_stays_a_string_elsewhere():
    config = config_lib.apply_overrides(TranslationConfig(), ["train.global_clipnorm=2",
                                                             "train.global_clipnorm=none",
                                                             "model.attention=none"])
    assert config.train.global_clipnorm is None and config.model.attention == "none"
    with pytest.raises(PipelineError, match=r"train.epochs must be an integer"):
        config_lib.apply_overrides(LanguageModelConfig(), ["train.epochs=none"])


def test_invalid_toml_names_the_file():
    with pytest.raises(PipelineError, match=r"^bad.toml is not valid TOML"):
        config_lib.loads("[model\n", source="bad.toml")


def test_unknown_pipeline_lists_bundled_names():
    with pytest.raises(PipelineError) as info:
        resolve_pipeline("no_such_pipeline")
    assert "a bundled pipeline (airline_passengers, aozora_ja, default, etth1_segment" in \
        str(info.value)
    assert str(info.value).endswith("Received: PIPELINE='no_such_pipeline'")


def test_an_old_forecast_run_with_the_plain_language_model_sections_still_reads(tmp_path):
    """Forecast runs written before each task had its own sections hold the language
    model's [text] and [model] keys at the plain defaults, not the recipe's."""
    from rnn_pipeline.config.loader import _toml_value, to_dict
    from rnn_pipeline.config.schema import ModelConfig, TextConfig
    from rnn_pipeline.runs import RunFolder

    text_section = to_dict(TextConfig())
    lm_only = {k: v for k, v in to_dict(ModelConfig()).items() if k in ("tie_weights",
                                                                          "embedding_dim")}
    text = ('name = "old"\ntask = "forecast"\n[series]\ndataset = "airline_passengers"\n'
            "[text]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in text_section.items())
            + "[model]\nunits = 8\n" + "".join(f"{k} = {_toml_value(v)}\n"
                                             for k, v in lm_only.items()))
    assert "tie_weights = false" in text
    (tmp_path / "config.toml").write_text(text)
    config = RunFolder(tmp_path).load_config()
    assert (config.task, config.model.units) == ("forecast", 8)
