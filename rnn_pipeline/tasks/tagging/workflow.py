"""The tagging workflow: tagged sentences -> trained tagger, token accuracy (seen and
unseen words) and entity F1 on the test and valid splits, next to the most-frequent-tag
baseline, the test predictions, run folder."""

import functools
import json

from rnn_pipeline.embeddings import (check_embeddings, freeze_callbacks, load_pretrained,
                                     read_vectors)
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.runs.confusion import (CONFUSION_PNG, ENTITY_F1_PNG, confusion_counts,
                                         plot_confusion, plot_entity_f1)
from rnn_pipeline.resources import recurrent_parts, vocabulary_parts
from rnn_pipeline.tasks.tagging.data import (PAD, UNK, TaggingVocabularies, load_splits,
                                             tagging_dataset)
from rnn_pipeline.tasks.tagging.metrics import (entity_scores, most_frequent_tag_baseline,
                                                token_accuracy)
# Importing the model module registers the classes a run's model.keras holds.
from rnn_pipeline.tasks.tagging.model import build_tagger, is_iob2
from rnn_pipeline.workflows.base import Workflow

METRICS_JSON, PREDICTIONS_TSV = "tagging_metrics.json", "predictions.tsv"
_BATCH = 64  # sentences per prediction batch
_EVALUATED = ("test", "valid")


def _split_scores(sentences, predicted, train_words, iob2):
    """Token accuracy (seen/unseen against ``train_words``) and, for IOB2 tags, entity
    scores of one split.

    Args:
        sentences: the split's `TaggedSentence`s.
        predicted: one tag-name list per sentence.
        train_words: the set of training tokens.
        iob2: whether the tags are IOB2 (entity scores).
    """
    gold = [s.tags for s in sentences]
    tokens = [s.tokens for s in sentences]
    scores = token_accuracy(gold, predicted, tokens, train_words)
    scores["sentences"] = len(sentences)
    if iob2:
        scores["entities"] = entity_scores(gold, predicted)
    return scores


_CHANGES = {"multiword_ranges_skipped": "multi-word token ranges skipped",
            "empty_nodes_skipped": "empty nodes skipped",
            "documents_skipped": "-DOCSTART- lines skipped",
            "tags_converted": "tags converted to IOB2",
            "spans_skipped": "spans skipped (out of range, empty or overlapping)",
            "inconsistent": "inconsistent IOB2 tags kept (conlleval reads each as a start)"}


def _reading_changes(reports):
    """What reading the files skipped or changed, summed over the files, as text ("" when
    nothing)."""
    totals = {key: sum(report[key] for report in reports) for key in _CHANGES}
    return ", ".join(f"{count:,} {_CHANGES[key]}" for key, count in totals.items() if count)


def _percent(value):
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _accuracy_text(scores):
    return (f"accuracy {_percent(scores['accuracy'])} (seen {_percent(scores['accuracy_seen'])}"
            f", unseen {_percent(scores['accuracy_unseen'])}, {scores['tokens']:,} tokens)")


class TaggingWorkflow(Workflow):
    """Args:
        config: a resolved `TaggingConfig`.
        log: callable for progress lines.
    """

    metric = "accuracy"
    direction = "max"
    run_files = {
        **{file: f"the {name} vocabulary, one entry per line in id order"
           for name, file in TaggingVocabularies.FILES.items()},
        TaggingVocabularies.SETTINGS: "whether words are looked up in lower case",
        "embedding_coverage.json": "(pretrained vectors) coverage report",
        METRICS_JSON: "test and valid token accuracy (seen/unseen words) and entity scores "
                      "(IOB2 tags), the most-frequent-tag baseline's, training time",
        PREDICTIONS_TSV: "token, gold and predicted tag of every test token; a blank line "
                         "between sentences",
        CONFUSION_PNG: "(tags that are not IOB2, e.g. POS) test confusion matrix",
        ENTITY_F1_PNG: "(IOB2 tags) test F1 per entity type, next to the baseline's",
    }

    # --- preparation: everything that can fail on user input, nothing written ---
    coverage = pretrained = None

    def check(self):
        """Checks the data keys, the embeddings and the model settings (a tiny model is
        built)."""
        cfg = self.config
        cfg.data.check()
        check_embeddings(cfg.embeddings)
        if cfg.train.jit_compile:
            raise pipeline_error("train.jit_compile", "must be false: XLA cannot compile the "
                                 "tagger's string lookups", True)
        tiny = TaggingVocabularies([PAD, UNK, "a"], [PAD, UNK, "a"], ["O"])
        build_tagger(cfg.model, tiny, cfg.tagging, seed=cfg.train.seed)

    def read_splits(self):
        """Reads the splits (``self.splits``) and checks their tags against the
        vocabularies; logs one line."""
        self.splits, self.data_report = load_splits(self.config.data, self.config.tagging)
        if not hasattr(self, "vocabularies"):
            self.vocabularies = TaggingVocabularies.fit(self.splits["train"],
                                                        self.config.tagging)
        self.vocabularies.check_splits(self.splits)
        self.train_words = {t for s in self.splits["train"] for t in s.tokens}
        counts = ", ".join(f"{k} {len(v):,} sentences / {sum(len(s.tokens) for s in v):,} "
                           f"tokens" for k, v in self.splits.items())
        self.log(f"Data: {counts}; {len(self.vocabularies.tags):,} tags, "
                 f"{len(self.vocabularies.words) - 2:,} words, "
                 f"{len(self.vocabularies.characters) - 2:,} characters "
                 f"(valid/test: {self.data_report['split']})")
        changed = _reading_changes(self.data_report["files"])
        if changed:
            self.log(f"Reading: {changed}")

    def load_data(self):
        """Reads the vectors (a new run), the splits; fits the vocabularies on train (a
        resumed run has them); batches every split."""
        cfg = self.config
        if cfg.embeddings.file is not None and not hasattr(self, "vocabularies"):
            # read (and checked) first: a bad file is the only line, before the data's
            self.pretrained = read_vectors(cfg.embeddings.file, cfg.embeddings.format)
        self.read_splits()
        self.datasets = {
            name: tagging_dataset(sentences, self.vocabularies, cfg.train.batch_size,
                                  shuffle_seed=cfg.train.seed if name == "train" else None)
            for name, sentences in self.splits.items()}

    def memory_parts(self, batch=None, batch_key="train.batch_size"):
        """The word embedding, the tag projection and the recurrent stack over sentences of
        ``tagging.max_words`` words (word and character features)."""
        m, steps = self.config.model, self.config.tagging.max_words
        batch = self.config.train.batch_size if batch is None else batch
        if not hasattr(self, "vocabularies"):  # before the data: the stack alone
            return super().memory_parts(batch, batch_key)
        features = m.embedding_dim + (2 * m.char_units if m.char_embedding_dim else 0)
        directions = 2 if m.bidirectional else 1
        words = vocabulary_parts(len(self.vocabularies.words), m.embedding_dim, m.units, batch,
                                 steps, batch_key=batch_key)[:1]
        tags = vocabulary_parts(len(self.vocabularies.tags), 1, directions * m.units, batch,
                                steps, batch_key=batch_key)[1:]
        return [*words, *tags, *recurrent_parts(m, features, batch, steps, batch_key)]

    def build_model(self):
        """The tagger, with the pretrained word vectors if any."""
        cfg = self.config
        model = build_tagger(cfg.model, self.vocabularies, cfg.tagging, seed=cfg.train.seed)
        if self.pretrained is not None:
            v = self.vocabularies
            ids = {word: i for i, word in enumerate(v.words)}
            train_ids = [ids.get(v.word(t), 1) for s in self.splits["train"] for t in s.tokens]
            self.coverage = load_pretrained(model.word_embedding, cfg.embeddings, v.words,
                                            train_ids, seed=cfg.train.seed,
                                            vectors=self.pretrained)
            for line in self.coverage.lines(cfg.embeddings.file):
                self.log(line)
        return model

    # --- training ---
    def save_assets(self, run):
        self.vocabularies.save(run.path)
        if self.coverage is not None:
            self.coverage.save(run.file(run.EMBEDDING_COVERAGE), self.config.embeddings.file)

    def training_callbacks(self):
        return freeze_callbacks(self.model.word_embedding, self.config.embeddings, self.log)

    def read_assets(self, run):
        """The run's vocabularies; a missing or damaged file is refused in one line."""
        try:
            self.vocabularies = TaggingVocabularies.load(run.path)
        except (OSError, ValueError, UnicodeDecodeError):
            files = ", ".join([*TaggingVocabularies.FILES.values(),
                               TaggingVocabularies.SETTINGS])
            raise pipeline_error("RUN", f"must hold its readable vocabularies ({files}), but "
                                 f"one is missing or damaged (train it again with "
                                 f"rnn-pipeline fit)", str(run.path)) from None

    def finish(self, run, rows, seconds):
        """Scores test and valid against the baseline; writes the metrics, the test
        predictions and the curves."""
        final = self.score_splits(_EVALUATED)
        final["train_seconds"] = seconds
        final["data"] = self.data_report
        run.file(METRICS_JSON).write_text(json.dumps(final, indent=2) + "\n", encoding="utf-8")
        self.write_predictions(run.file(PREDICTIONS_TSV), "test")
        self.write_plots(run.path, "test", final["test"], final["baseline"]["test"])
        run.save_metrics(rows, final)
        return final

    def write_plots(self, folder, split, scores, baseline, prefix=""):
        """The figure of ``split`` (needs `score_splits` on it): F1 per entity type for
        IOB2 tags, else the confusion matrix. Returns the paths written.

        Args:
            folder: where to write (a `pathlib.Path`).
            split: the split's name.
            scores: the model's scores of the split; baseline: the baseline's.
            prefix: put before the file name, e.g. "valid_".
        """
        name = self.config.name
        if "entities" in scores:
            path = folder / f"{prefix}{ENTITY_F1_PNG}"
            plot_entity_f1(scores["entities"], baseline["entities"], path,
                           f"{name}: {split} entity F1")
        else:
            path = folder / f"{prefix}{CONFUSION_PNG}"
            gold = [s.tags for s in self.splits[split]]
            counts = confusion_counts(gold, self.predicted[split], self.vocabularies.tags)
            plot_confusion(counts, self.vocabularies.tags, path, f"{name}: {split} tags "
                           f"(accuracy {100 * scores['accuracy']:.2f}%)")
        return [path]

    # --- predicting and scoring ---
    @functools.cached_property
    def character_level(self):
        """Whether the run's tokens are characters (character-span JSON files)."""
        from rnn_pipeline.datasets import DATASETS

        data = self.config.data
        if data.format != "auto":
            return data.format == "spans_json"
        paths = ([f.path for f in DATASETS.get(data.corpus).files.values()]
                 if data.corpus != "files" else data.train)
        return any(str(path).endswith(".json") for path in paths)

    def tokenize(self, text):
        """A sentence's tokens as the run was trained on them: its characters (spaces
        included) for a character-level run, else its whitespace-separated words."""
        return list(text) if self.character_level else text.split()

    def predict(self, token_lists):
        """Tag names of each sentence (lists of tokens), in batches of the model's
        `predict_tags`."""
        import tensorflow as tf

        out = []
        for start in range(0, len(token_lists), _BATCH):
            batch = token_lists[start:start + _BATCH]
            width = max([len(t) for t in batch] + [1])
            padded = tf.constant([list(t) + [""] * (width - len(t)) for t in batch], tf.string)
            ids = self.model.predict_tags(padded).numpy()
            out += [[self.vocabularies.tags[i] for i in row[:len(t)]]
                    for row, t in zip(ids, batch)]
        return out

    def score_splits(self, names):
        """{split: scores} of the model on ``names``, and {"baseline": {split: scores}}."""
        iob2 = is_iob2(self.vocabularies.tags)
        baseline = most_frequent_tag_baseline(self.splits["train"])
        self.predicted, result = {}, {"baseline": {}}
        for name in names:
            sentences = self.splits[name]
            tokens = [s.tokens for s in sentences]
            self.predicted[name] = self.predict(tokens)
            result[name] = _split_scores(sentences, self.predicted[name], self.train_words, iob2)
            result["baseline"][name] = _split_scores(sentences, baseline.predict(tokens),
                                                     self.train_words, iob2)
        result["tag_scheme"] = "iob2" if iob2 else "tags"
        return result

    def write_predictions(self, path, split):
        """``token<TAB>gold<TAB>predicted`` per token of ``split``, a blank line between
        sentences (needs `score_splits` on ``split`` first)."""
        lines = []
        for sentence, predicted in zip(self.splits[split], self.predicted[split]):
            lines += [f"{t}\t{g}\t{p}" for t, g, p in zip(sentence.tokens, sentence.tags,
                                                          predicted)]
            lines.append("")
        path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")

    # --- a finished run ---
    def evaluate(self, split):
        """``rnn-pipeline evaluate``: accuracy (seen/unseen) and entity F1 of a split, next
        to the most-frequent-tag baseline's."""
        self.read_splits()
        result = self.score_splits([split])
        return {"model": result[split], "baseline": result["baseline"][split]}

    def evaluation_lines(self, split, figures):
        return self.split_lines(split, figures["model"], figures["baseline"])

    def evaluation_plots(self, split, figures, folder):
        """``<split>_entity_f1.png`` (IOB2 tags) or ``<split>_confusion_matrix.png``."""
        return self.write_plots(folder, split, figures["model"], figures["baseline"],
                                prefix=f"{split}_")

    @staticmethod
    def split_lines(split, scores, baseline):
        """Text lines of one split's scores and the baseline's."""
        lines = [f"{split} {_accuracy_text(scores)} over {scores['sentences']:,} sentences",
                 f"  baseline (most frequent tag) {_accuracy_text(baseline)}"]
        if "entities" in scores:
            e, b = scores["entities"], baseline["entities"]
            lines.append(f"  entity F1 {100 * e['f1']:.2f} (P {100 * e['precision']:.2f}, R "
                         f"{100 * e['recall']:.2f}, {e['gold_entities']:,} entities); baseline "
                         f"F1 {100 * b['f1']:.2f}")
            odd = e["inconsistent"]
            if odd["gold"] or odd["predicted"]:
                lines.append(f"  inconsistent IOB2 chunks, scored by conlleval's rules: "
                             f"{odd['gold']:,} gold, {odd['predicted']:,} predicted")
        return lines

    def make_serving_module(self, assets_dir):
        """The TF Serving module: ``tokens`` (or raw ``sentences``) -> ``tags`` and
        ``scores``."""
        from rnn_pipeline.tasks.tagging.serving import TaggingServing

        return TaggingServing(self.model, assets_dir, self.vocabularies,
                              character_level=self.character_level)

    @staticmethod
    def summary(final):
        lines = []
        for split in _EVALUATED:
            if split in final:
                lines += TaggingWorkflow.split_lines(split, final[split],
                                                     final["baseline"][split])
        return lines + [f" trained in {final['train_seconds']:.0f}s"]
