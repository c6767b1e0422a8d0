"""The bad-input suite, tagging: each mistake of issue 36's list is one ``Error: ...``
line naming the file and line, key or value, exit 2, and no run folder is written."""

import pytest
from click.testing import CliRunner

from rnn_pipeline.cli.main import cli
from tests_support import assert_one_line_error

ROW = "{n}\t{w}\t_\t{t}\t_\t_\t0\tdep\t_\t_\n"


def _conllu(rows):
    return "".join(ROW.format(n=n, w=w, t=t) for n, (w, t) in enumerate(rows, start=1))


GOOD = "\n".join(_conllu([("The", "DET"), ("cat", "NOUN")]) for _ in range(10)) + "\n"


def _fit(tmp_path, train_text, extra="", name="train.conllu", corpus=None):
    train = tmp_path / name
    train.write_text(train_text, encoding="utf-8")
    data = f'corpus = "{corpus}"' if corpus else f'train = ["{train}"]'
    pipeline = tmp_path / "tagger.toml"
    pipeline.write_text(f'task = "tagging"\n[data]\n{data}\n{extra}', encoding="utf-8")
    run = tmp_path / "run"
    return CliRunner().invoke(cli, ["fit", str(pipeline), "--run-dir", str(run)]), run, train


@pytest.mark.parametrize("train_text, extra, expected", [
    pytest.param(GOOD + "1\tbroken line\n", "", "{train}:31 must be a CoNLL-U token line: 10 "
                 "tab-separated, non-empty fields", id="malformed-conllu"),
    pytest.param(GOOD.replace("\tNOUN\t", "\t_\t", 1), "", "{train}:2 must have a tag in the "
                 "UPOS column ('_' is none)", id="missing-upos"),
    pytest.param(GOOD, '[tagging]\ncolumn = "NER"\n', "{train}:1 must have NER=<tag> in the "
                 "MISC column", id="missing-misc-key"),
    pytest.param(GOOD + "\n" + _conllu([("a", "X")] * 5), "[tagging]\nmax_words = 4\n",
                 "tagging.max_words must be at least the words of every sentence: {train} "
                 "sentence 11 has 5 words", id="sentence-over-max-words"),
])
def test_fit_refuses_the_tagged_file_before_the_run_folder(tmp_path, train_text, extra,
                                                             expected):
    result, run, train = _fit(tmp_path, train_text, extra)
    assert_one_line_error(result, expected.format(train=train), absent=[run])


def test_an_unknown_dataset_lists_the_tagging_datasets(tmp_path):
    result, run, _ = _fit(tmp_path, GOOD, corpus="conll2003")
    assert_one_line_error(result, "data.corpus must be 'files' or a tagging dataset: "
                          "'ja_ner_wikipedia', 'ud_english_ewt', 'wnut17'. Received: "
                          "data.corpus='conll2003'", absent=[run])


def test_inconsistent_bio_is_kept_counted_and_reported(tmp_path):
    from rnn_pipeline.tasks.tagging.config import TaggingConfig, TaggingDataConfig
    from rnn_pipeline.tasks.tagging.metrics import entity_scores
    from rnn_pipeline.tasks.tagging.workflow import TaggingWorkflow

    train = tmp_path / "train.conll"
    train.write_text("\n".join(["EU I-ORG\nsaid O\nno I-MISC\nPeter B-PER\n"] * 10))
    logged = []
    workflow = TaggingWorkflow(TaggingConfig(data=TaggingDataConfig(train=[str(train)])),
                               log=logged.append)
    workflow.read_splits()
    # 10 sentences read, 2 inconsistent chunk starts each (I-ORG first, I-MISC after O)
    assert logged[-1] == ("Reading: 20 inconsistent IOB2 tags kept (conlleval reads each as "
                          "a start)")
    gold = [s.tags for s in workflow.splits["test"]]
    scores = {"accuracy": 1.0, "accuracy_seen": 1.0, "accuracy_unseen": None, "tokens": 4,
              "sentences": 1, "entities": entity_scores(gold, gold)}
    lines = TaggingWorkflow.split_lines("test", scores, scores)
    assert lines[-1] == "  inconsistent IOB2 chunks, scored by conlleval's rules: 2 gold, 2 " \
                        "predicted"
    assert scores["entities"]["f1"] == 1.0  # each I-X chunk scored as a chunk
