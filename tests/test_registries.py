import pytest

from rnn_pipeline.data.corpora import CORPORA
from rnn_pipeline.datasets import DATASETS
from rnn_pipeline.embeddings import MISSING_INITS, VECTOR_FORMATS
from rnn_pipeline.embeddings.word2vec import METHODS
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.generation import SAMPLERS
from rnn_pipeline.models.cells import CELLS
from rnn_pipeline.tasks.forecast.model import HEADS
from rnn_pipeline.tasks.translation.model import ATTENTIONS
from rnn_pipeline.tasks.forecast.series.baselines import BASELINES
from rnn_pipeline.tokenizers import TOKENIZERS
from rnn_pipeline.training import OPTIMIZERS, SCHEDULES
from rnn_pipeline.workflows import WORKFLOWS


@pytest.mark.parametrize("registry, names", [
    (CELLS, ["gru", "lstm", "simple_rnn"]),
    (TOKENIZERS, ["character", "sentencepiece", "unicode_script", "whitespace"]),
    (OPTIMIZERS, ["adam", "adamw", "sgd"]),
    (SCHEDULES, ["constant", "cosine", "plateau", "step"]),
    (CORPORA, ["aozora", "files", "ptb", "pydoc_topics", "tinyshakespeare", "wikitext2"]),
    (DATASETS, ["airline_passengers", "aozora", "etth1", "ettm1", "fsdd", "ja_ner_wikipedia",
                "melbourne_temperatures", "ptb", "tatoeba_jpn_eng", "tatoeba_spa_eng",
                "tinyshakespeare", "ud_english_ewt", "wikitext2", "wnut17"]),
    (WORKFLOWS, ["causal_lm", "forecast", "speech", "tagging", "translation"]),
    (ATTENTIONS, ["additive", "dot", "none"]),
    (HEADS, ["autoregressive", "direct", "segment", "seq2seq"]),
    (BASELINES, ["dlinear", "linear", "mean", "nlinear", "repeat", "seasonal_naive"]),
    (SAMPLERS, ["beam", "greedy", "random", "top_k", "top_p"]),
    (VECTOR_FORMATS, ["glove", "word2vec_binary", "word2vec_text"]),
    (MISSING_INITS, ["random", "scaled", "zeros"]),
    (METHODS, ["cbow", "skipgram"]),
])
def test_unknown_name_lists_the_valid_ones(registry, names):
    assert registry.names() == names
    with pytest.raises(PipelineError) as info:
        registry.get("nope")
    choices = ", ".join(repr(n) for n in names)
    assert str(info.value) == (f"{registry.argument} must be one of: {choices}. "
                               f"Received: {registry.argument}='nope'")


def test_names_are_lowercase():
    with pytest.raises(ValueError, match="lowercase"):
        CELLS.register("LSTM")
