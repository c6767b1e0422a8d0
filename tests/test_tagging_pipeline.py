"""Tagging pipeline: config sections, splits from files, vocabularies, tf.data batches."""

import pytest

from rnn_pipeline.config.loader import from_dict
from rnn_pipeline.errors import PipelineError
from rnn_pipeline.tasks.tagging.config import (TaggingConfig, TaggingDataConfig,
                                               TaggingModelConfig, TaggingSection)
from rnn_pipeline.tasks.tagging.data import (TaggingVocabularies, load_splits,
                                             tagging_dataset)
from rnn_pipeline.tasks.tagging.sentences import TaggedSentence

CONLL = "EU B-ORG\nrejects O\nGerman B-MISC\n\nPeter B-PER\nBlackburn I-PER\n\n"
CONLLU = ("# text = The cat\n1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n"
          "2\tcat\tcat\tNOUN\tNN\t_\t0\troot\t_\t_\n\n")


def _sentence_file(folder, name, count, start=0):
    lines = "".join(f"w{i} B-X\nend O\n\n" for i in range(start, start + count))
    path = folder / name
    path.write_text(lines, encoding="utf-8")
    return path


def test_sections_parse_through_the_loader():
    config = TaggingConfig(
        data=from_dict(TaggingDataConfig, {"train": "a.conll", "format": "conll"}, "data."),
        tagging=from_dict(TaggingSection, {"scheme": "bioes", "max_words": 50}, "tagging."),
        model=from_dict(TaggingModelConfig, {"head": "crf", "char_embedding_dim": 0},
                        "model."))
    assert config.task == "tagging" and config.data.train == ["a.conll"]
    assert config.tagging.scheme == "bioes" and config.model.char_embedding_dim == 0
    assert config.model.bidirectional and config.model.dropout == 0.5
    built = from_dict(TaggingConfig, {"name": "ner", "tagging": {"lowercase": True}})
    assert built.task == "tagging" and built.tagging.lowercase


def test_unknown_key_and_bad_choices_are_refused_by_name():
    with pytest.raises(PipelineError, match="Unknown config key 'tagging.colum'"):
        from_dict(TaggingConfig, {"tagging": {"colum": "xpos"}})
    with pytest.raises(PipelineError) as info:
        from_dict(TaggingSection, {"scheme": "bilou"}, "tagging.")
    assert str(info.value) == ("tagging.scheme must be one of: 'bioes', 'io', 'iob1', 'iob2'. "
                               "Received: tagging.scheme='bilou'")
    with pytest.raises(PipelineError, match="model.head must be one of: 'crf', 'softmax'"):
        from_dict(TaggingModelConfig, {"head": "mlp"}, "model.")
    with pytest.raises(PipelineError, match="tagging.max_words must be at least 1"):
        from_dict(TaggingSection, {"max_words": 0}, "tagging.")
    with pytest.raises(PipelineError, match=r"data.valid_fraction must be in \(0, 0.5\)"):
        from_dict(TaggingDataConfig, {"valid_fraction": 0.5}, "data.")
    with pytest.raises(PipelineError, match="data.train must name the training files"):
        TaggingDataConfig().check()


def test_globs_read_every_file_and_keep_given_splits(tmp_path):
    (tmp_path / "a.conll").write_text(CONLL, encoding="utf-8")
    (tmp_path / "b.conll").write_text(CONLL, encoding="utf-8")
    (tmp_path / "dev.conllu").write_text(CONLLU, encoding="utf-8")
    data = TaggingDataConfig(train=[str(tmp_path / "*.conll")], valid=[str(tmp_path / "dev.*")],
                             test=[str(tmp_path / "a.conll")])
    splits, report = load_splits(data, TaggingSection())
    assert [len(splits[k]) for k in ("train", "valid", "test")] == [4, 1, 2]
    assert splits["valid"][0] == TaggedSentence(["The", "cat"], ["DET", "NOUN"])
    assert report["split"] == "files" and len(report["files"]) == 4


def test_a_glob_without_match_is_one_error(tmp_path):
    pattern = str(tmp_path / "none*.conll")
    with pytest.raises(PipelineError) as info:
        load_splits(TaggingDataConfig(train=[pattern]), TaggingSection())
    assert str(info.value) == ("data.train must name existing files (paths or globs). "
                               f"Received: data.train={pattern!r}")


def test_seeded_split_is_deterministic_disjoint_and_complete(tmp_path):
    _sentence_file(tmp_path, "train.conll", 20)
    data = TaggingDataConfig(train=[str(tmp_path / "train.conll")], valid_fraction=0.2,
                             test_fraction=0.1, seed=3)
    splits, report = load_splits(data, TaggingSection())
    again, _ = load_splits(data, TaggingSection())
    assert splits == again and report["split"] == "valid and test: seeded shuffle, seed 3"
    assert [len(splits[k]) for k in ("train", "valid", "test")] == [14, 4, 2]
    words = [[s.tokens[0] for s in splits[k]] for k in ("train", "valid", "test")]
    assert sorted(sum(words, [])) == sorted(f"w{i}" for i in range(20))
    other, _ = load_splits(TaggingDataConfig(train=data.train, seed=4), TaggingSection())
    assert [s.tokens[0] for s in other["valid"]] != words[1]


def test_too_few_sentences_to_split(tmp_path):
    _sentence_file(tmp_path, "train.conll", 2)
    with pytest.raises(PipelineError, match="data.train must hold more sentences"):
        load_splits(TaggingDataConfig(train=[str(tmp_path / "train.conll")]), TaggingSection())


def test_a_sentence_over_max_words_is_refused(tmp_path):
    path = tmp_path / "a.conll"
    path.write_text(CONLL, encoding="utf-8")
    with pytest.raises(PipelineError) as info:
        load_splits(TaggingDataConfig(train=[str(path)]), TaggingSection(max_words=2))
    assert str(info.value) == (
        f"tagging.max_words must be at least the words of every sentence: {path} sentence 1 "
        "has 3 words (raise tagging.max_words, or split the sentence). "
        "Received: tagging.max_words=2")


def test_an_unknown_corpus_lists_the_tagging_datasets():
    with pytest.raises(PipelineError) as info:
        load_splits(TaggingDataConfig(corpus="conll2003"), TaggingSection())
    assert str(info.value) == ("data.corpus must be 'files' or a tagging dataset: "
                               "'ja_ner_wikipedia', 'ud_english_ewt', 'wnut17'. Received: "
                               "data.corpus='conll2003'")


def test_a_catalogue_dataset_is_read_with_its_own_splits(dataset):
    dataset("wnut17")
    splits, report = load_splits(TaggingDataConfig(corpus="wnut17"), TaggingSection())
    assert [len(splits[k]) for k in ("train", "valid", "test")] == [3394, 1009, 1287]
    assert report["split"] == "files"
    dataset("ja_ner_wikipedia")  # one file: valid and test split off by the seeded shuffle
    splits, report = load_splits(TaggingDataConfig(corpus="ja_ner_wikipedia"),
                                 TaggingSection(max_words=300))  # 296 characters at most
    assert sum(len(v) for v in splits.values()) == 5343
    assert report["split"] == "valid and test: seeded shuffle, seed 0"


TRAIN = [TaggedSentence(["The", "the", "cat"], ["DET", "DET", "NOUN"]),
         TaggedSentence(["The", "dog"], ["DET", "NOUN"])]


def test_vocabularies_count_the_training_split():
    vocab = TaggingVocabularies.fit(TRAIN, TaggingSection(min_word_frequency=2))
    assert vocab.words == ["<pad>", "<unk>", "The"]
    assert vocab.tags == ["DET", "NOUN"]
    assert vocab.characters[:5] == ["<pad>", "<unk>", "e", "h", "T"]  # 3, 3, 2 times
    lower = TaggingVocabularies.fit(TRAIN, TaggingSection(lowercase=True))
    assert lower.words == ["<pad>", "<unk>", "the", "cat", "dog"] and lower.word("THE") == "the"
    assert "T" in lower.characters  # characters keep their case


def test_an_unknown_tag_in_valid_is_refused():
    vocab = TaggingVocabularies.fit(TRAIN, TaggingSection())
    splits = {"valid": [TaggedSentence(["a"], ["DET"]), TaggedSentence(["b"], ["VERB"])]}
    with pytest.raises(PipelineError) as info:
        vocab.check_splits(splits)
    assert str(info.value) == ("data.valid must hold only tags of the training split ('DET', "
                               "'NOUN'); sentence 2 has 'VERB'. Received: data.valid='VERB'")


def test_vocabularies_save_and_load(tmp_path):
    sentences = TRAIN + [TaggedSentence(["a\nb", "\\n", "ü"], ["X", "X", "X"])]
    vocab = TaggingVocabularies.fit(sentences, TaggingSection(lowercase=True))
    vocab.save(tmp_path / "vocab")
    loaded = TaggingVocabularies.load(tmp_path / "vocab")
    assert (loaded.words, loaded.characters, loaded.tags, loaded.lowercase) == (
        vocab.words, vocab.characters, vocab.tags, True)
    assert "a\nb" in loaded.words and "\\n" in loaded.words and "\n" in loaded.characters


def test_dataset_pads_tokens_tags_and_mask():
    vocab = TaggingVocabularies.fit(TRAIN, TaggingSection())
    batches = list(tagging_dataset(TRAIN, vocab, batch_size=2))
    assert len(batches) == 1
    features, tags, mask = batches[0]
    assert features["tokens"].shape == (2, 3) and features["tokens"].dtype.name == "string"
    assert features["tokens"].numpy().tolist() == [[b"The", b"the", b"cat"], [b"The", b"dog", b""]]
    assert tags.dtype.name == "int32" and tags.numpy().tolist() == [[0, 0, 1], [0, 1, 0]]
    assert mask.dtype.name == "float32" and mask.numpy().tolist() == [[1, 1, 1], [1, 1, 0]]
    shuffled = [b[1].shape[0] for b in tagging_dataset(TRAIN * 3, vocab, 4, shuffle_seed=0)]
    assert shuffled == [4, 2]
