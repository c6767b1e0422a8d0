"""The bad-input suite, text and batches: a vocabulary that keeps (almost) nothing and a
batch too large for the training split, two silent rows of issue 35's table, are each one
``Error: ...`` line, exit 2, before the run folder exists."""

import re

import pytest
from click.testing import CliRunner

from conftest import TINY_PIPELINE, write_tiny_corpus
from rnn_pipeline.cli.main import cli
from rnn_pipeline.tasks.causal_lm.data import MIN_STEPS, check_steps, windows_per_row
from rnn_pipeline.errors import PipelineError
from tests_support import assert_one_line_error

# The tiny corpus: 180 training tokens (52 words and 8 <eos> per copy, 3 copies) in
# TINY_PIPELINE's batch 2 x bptt 4 windows.
CASES = [
    (["text.min_frequency=1000000000"],
     "text.min_frequency must keep at least 50% of the training tokens out of <unk>, but the "
     "vocabulary keeps 0 of the 24 distinct training tokens, and 100% of the 156 training "
     "tokens become <unk> (the most frequent occurs 30 times). "
     "Received: text.min_frequency=1000000000"),
    (["text.max_size=3"], "text.max_size must keep at least 50% of the training tokens out "
                          "of <unk>, but the vocabulary keeps 1 of the 24 distinct"),
    (["train.batch_size=1000"],
     "train.batch_size must leave at least 4 steps per epoch, but the 180 training tokens at "
     "train.bptt = 4 make 1; the largest batch that works is 14. "
     "Received: train.batch_size=1000"),
    (["train.batch_size=2", "train.bptt=100"],
     "train.bptt must leave at least 4 steps per epoch even at batch 1, but the training "
     "split has only 180 tokens; the longest that works is 59. Received: train.bptt=100"),
]


@pytest.mark.parametrize("overrides, expected", CASES, ids=["floor", "cap", "batch", "bptt"])
def test_a_vocabulary_or_batch_that_leaves_nothing_to_learn_is_refused(tmp_path, overrides,
                                                                       expected):
    pipeline = tmp_path / "tiny.toml"
    pipeline.write_text(TINY_PIPELINE.format(**write_tiny_corpus(tmp_path)))
    run = tmp_path / "run"
    sets = [item for override in ["text.tokenizer=whitespace", *overrides]  # as counted
            for item in ("--set", override)]
    result = CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run), *sets])
    assert_one_line_error(result, expected, code=2, absent=[run])


@pytest.mark.parametrize("tokens, bptt, replicas", [(177, 4, 1), (1000, 35, 1), (5000, 35, 2),
                                                 (106, 35, 1)])
def test_the_largest_batch_named_is_the_largest_that_works(tokens, bptt, replicas):
    with pytest.raises(PipelineError) as refused:
        check_steps(tokens, 10_000, bptt, replicas)
    largest = int(re.search(r"the largest batch that works is (\d+)", str(refused.value))[1])
    assert largest % replicas == 0
    assert windows_per_row(tokens, largest, bptt) >= MIN_STEPS
    assert windows_per_row(tokens, largest + replicas, bptt) < MIN_STEPS
    check_steps(tokens, largest, bptt, replicas)
