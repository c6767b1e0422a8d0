"""The translation workflow: sentence pairs -> trained encoder-decoder, BLEU/chrF on the
test pairs (also by source length), example translations, run folder."""

import csv
import json
import math
import time

import tensorflow as tf

from rnn_pipeline.data.preprocessor import normalize
from rnn_pipeline.data.text_pipeline import fitted_text
from rnn_pipeline.datasets import DATASETS, fetch_file
from rnn_pipeline.errors import pipeline_error
from rnn_pipeline.resources import recurrent_parts, vocabulary_parts
from rnn_pipeline.runs import RunFolder
from rnn_pipeline.runs.plots import plot_curves
from rnn_pipeline.tasks.translation.data import PAD_ID, fit_side, pair_batches
from rnn_pipeline.tasks.translation.decode import translate_text
from rnn_pipeline.tasks.translation.model import build_translator
from rnn_pipeline.tasks.translation.pairs import filter_by_length, read_pairs, split_by_source
from rnn_pipeline.tasks.translation.report import plot_by_length, score, score_by_length
from rnn_pipeline.workflows.base import Workflow

TRANSLATIONS_TSV, SCORES_JSON, BY_LENGTH_PNG = "translations.tsv", "bleu.json", "bleu_by_length.png"
SOURCE_VOCAB, TARGET_VOCAB = "source_vocab.txt", "target_vocab.txt"
_BATCH = 64


class TranslationWorkflow(Workflow):
    """Args:
        config: a resolved `TranslationConfig`.
        log: callable for progress lines.
    """

    metric = "perplexity"
    loss_of_metric = staticmethod(math.log)  # the rows' loss: mean NLL per target token
    run_files = {
        SOURCE_VOCAB: "the source side's vocabulary (ids 0-3 are the specials)",
        TARGET_VOCAB: "the target side's vocabulary",
        RunFolder.CURVES: "loss and perplexity curves",
        SCORES_JSON: "test BLEU and chrF with sacrebleu's signatures, also by source length",
        TRANSLATIONS_TSV: "source, reference and translation of every test pair",
        BY_LENGTH_PNG: "BLEU against source length",
    }

    # --- preparation: everything that can fail on user input, nothing written ---
    def _build(self, source_size, target_size, source_pre=None, target_pre=None):
        return build_translator(self.config, source_size, target_size, PAD_ID, source_pre,
                                target_pre)

    def check(self):
        """Checks the pairs, decoding and model settings."""
        p, d = self.config.pairs, self.config.decode
        if (p.dataset is None) == (p.file is None):
            raise pipeline_error("pairs.dataset", "must be set, or else pairs.file (one of "
                                 "the two)", p.dataset)
        if p.dataset is not None:
            spec = DATASETS.get(p.dataset)
            if spec.kind != "pairs":
                names = sorted(n for n in DATASETS.names() if DATASETS.get(n).kind == "pairs")
                raise pipeline_error("pairs.dataset", f"must be a pair dataset: "
                                     f"{', '.join(map(repr, names))}", p.dataset)
        for key, value, low in (("decode.num_beams", d.num_beams, 1),
                                ("decode.max_tokens", d.max_tokens, 1)):
            if value < low:
                raise pipeline_error(key, f"must be at least {low}", value)
        if d.length_penalty < 0:
            raise pipeline_error("decode.length_penalty", "must be at least 0", d.length_penalty)
        self._build(5, 5)

    @property
    def target_language(self):
        p = self.config.pairs
        if p.target_language:
            return p.target_language
        source, target = DATASETS.get(p.dataset).languages if p.dataset else ("und", "und")
        return source if p.reverse else target

    def load_pairs(self):
        """Reads, splits by source sentence and length-filters the pairs."""
        p = self.config.pairs
        if p.dataset is not None:
            spec = DATASETS.get(p.dataset)
            path, encoding = fetch_file(spec.files["pairs"]), spec.encoding
        else:
            path, encoding = p.file, p.encoding
        pairs = read_pairs(path, encoding)
        if p.reverse:
            pairs = [(t, s) for s, t in pairs]
        splits = split_by_source(pairs, p.valid_fraction, p.test_fraction, p.seed)
        dropped = 0
        for name in splits:
            splits[name], count = filter_by_length(splits[name], p.max_source_words,
                                                   p.max_target_chars)
            dropped += count
            if p.max_pairs is not None:
                splits[name] = splits[name][:p.max_pairs]
        self.log(f"Pairs from {path}: " + ", ".join(f"{k} {len(v):,}" for k, v in splits.items())
                 + f" ({dropped:,} dropped by the length limits)")
        return splits

    def load_data(self):
        """Reads the pairs, fits both sides' tokenizers and vocabularies, batches them."""
        cfg = self.config
        start = time.perf_counter()
        self.splits = self.load_pairs()
        train = self.splits["train"]
        if self.fitted_text:  # a resumed run's own tokenizers and vocabularies
            self.source_pre, self.source_vocab = fitted_text(self.fitted_text["source"])
            self.target_pre, self.target_vocab = fitted_text(self.fitted_text["target"])
        else:
            self.source_pre, self.source_vocab = fit_side(
                [s for s, _ in train], cfg.source_text, seed=cfg.train.seed)
            self.target_pre, self.target_vocab = fit_side(
                [t for _, t in train], cfg.target_text, seed=cfg.train.seed)
        self.log(f"Vocabularies: source {len(self.source_vocab):,} ({cfg.source_text.tokenizer}),"
                 f" target {len(self.target_vocab):,} ({cfg.target_text.tokenizer}); prepared in "
                 f"{time.perf_counter() - start:.1f}s")
        self.datasets = {
            name: pair_batches(pairs, self.source_pre, self.target_pre, cfg.train.batch_size,
                               shuffle_seed=cfg.train.seed if name == "train" else None)
            for name, pairs in self.splits.items()}

    def memory_parts(self, batch=None, batch_key="train.batch_size"):
        """Both sides' embeddings, the target softmax and the encoder and decoder stacks,
        over sentences of up to ``decode.max_tokens`` tokens."""
        m, steps = self.config.model, self.config.decode.max_tokens
        batch = self.config.train.batch_size if batch is None else batch
        source = vocabulary_parts(len(self.source_vocab), m.embedding_dim, m.units, batch,
                                  steps, batch_key=batch_key)[:1]
        target = vocabulary_parts(len(self.target_vocab), m.embedding_dim, m.units, batch,
                                  steps, batch_key=batch_key)
        return [*source, *target, *recurrent_parts(m, m.embedding_dim, batch, steps, batch_key),
                *recurrent_parts(m, m.embedding_dim + m.units, batch, steps, batch_key)]

    def build_model(self):
        return self._build(len(self.source_vocab), len(self.target_vocab), self.source_pre,
                           self.target_pre)

    # --- training ---
    def fitted_text_configs(self):
        return {"source": self.source_pre.get_config(), "target": self.target_pre.get_config()}

    def save_assets(self, run):
        self.source_vocab.save(run.file(SOURCE_VOCAB))
        self.target_vocab.save(run.file(TARGET_VOCAB))

    def read_assets(self, run):
        """A run's two vocabularies: a missing or damaged one is refused, as the language
        model's ``vocab.txt`` is (the model holds its own copies)."""
        self.source_vocab = run.load_vocabulary(SOURCE_VOCAB)
        self.target_vocab = run.load_vocabulary(TARGET_VOCAB)

    def finish(self, run, rows, seconds):
        """Scores the test pairs; writes metrics, curves and the translation report."""
        final = self.score_split("test", run)
        final["train_seconds"] = seconds
        run.save_metrics(rows, final)
        plot_curves(rows, final, run.file(run.CURVES), title=f"{self.config.name}: "
                    f"{self.config.model.cell}, attention {self.config.model.attention}")
        return final

    # --- translating and scoring ---
    def translate(self, texts, num_beams=None):
        """Translates a list of strings, in batches, with the run's decoding settings."""
        d = self.config.decode
        beams = d.num_beams if num_beams is None else num_beams
        if not hasattr(self, "_translate_fn"):
            self._translate_fn = {}
        if beams not in self._translate_fn:
            self._translate_fn[beams] = tf.function(
                lambda t: translate_text(self.model, t, d.max_tokens, beams, d.length_penalty,
                                         self.target_language),
                input_signature=[tf.TensorSpec([None], tf.string)])
        out = []
        for i in range(0, len(texts), _BATCH):
            batch = self._translate_fn[beams](tf.constant(texts[i:i + _BATCH], tf.string))
            out += [t.decode("utf-8") for t in batch.numpy()]
        return out

    def references(self, targets):
        """The reference translations as the model is trained to write them: with the
        target side's normalization (NFKC) and lower-casing, which the model cannot undo."""
        t = self.config.target_text
        normalized = normalize(tf.constant(targets, tf.string), t.normalization, t.lowercase)
        return [text.decode("utf-8") for text in normalized.numpy()]

    def score_split(self, split, run=None):
        """BLEU/chrF of a split (and by source length); with ``run``, also writes the
        translations TSV, the scores JSON and the by-length plot."""
        pairs = self.splits[split]
        sources, references = [s for s, _ in pairs], self.references([t for _, t in pairs])
        start = time.perf_counter()
        hypotheses = self.translate(sources)
        result = {**score(hypotheses, references, self.target_language),
                  "split": split, "target_language": self.target_language,
                  "num_beams": self.config.decode.num_beams,
                  "decode_seconds": time.perf_counter() - start,
                  "by_length": score_by_length(sources, hypotheses, references,
                                               self.target_language)}
        if run is not None:
            with open(run.file(TRANSLATIONS_TSV), "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, delimiter="\t", lineterminator="\n")
                writer.writerow(["source", "reference", "translation"])
                writer.writerows(zip(sources, references, hypotheses))
            run.file(SCORES_JSON).write_text(json.dumps(result, indent=2, ensure_ascii=False)
                                             + "\n", encoding="utf-8")
            self._plot_by_length(result, run.file(BY_LENGTH_PNG))
        return result

    def _plot_by_length(self, result, path):
        plot_by_length({f"attention {self.config.model.attention}": result["by_length"]},
                       path, title=f"{self.config.name}: {result['split']} BLEU")
        return path

    # --- a finished run ---
    def evaluate(self, split):
        """``rnn-pipeline evaluate``: BLEU and chrF of a split, and by source length."""
        self.splits = self.load_pairs()
        return self.score_split(split)

    def evaluation_lines(self, split, figures):
        result = figures
        lines = [f"{split} BLEU {result['bleu']:.2f} ({result['bleu_signature']})  chrF "
                 f"{result['chrf']:.2f} ({result['chrf_signature']}) over {result['pairs']:,} "
                 f"pairs"]
        lines += [f"  source {r['source_words']:>5} words: BLEU {r['bleu']:6.2f}  chrF "
                  f"{r['chrf']:6.2f}  ({r['pairs']:,} pairs)" for r in result["by_length"]]
        return lines

    def evaluation_plots(self, split, figures, folder):
        """BLEU against source length (the plot of `finish`)."""
        return [self._plot_by_length(figures, folder / f"{split}_{BY_LENGTH_PNG}")]

    def make_serving_module(self, assets_dir):
        """The TF Serving module: ``source`` strings -> ``translation`` strings."""
        from rnn_pipeline.tasks.translation.serving import TranslationServing

        return TranslationServing(self.model, assets_dir, self.config.decode,
                                  self.target_language)

    @staticmethod
    def summary(final):
        return [f" test BLEU {final['bleu']:.2f} ({final['bleu_signature']})",
                f" test chrF {final['chrf']:.2f} ({final['chrf_signature']})",
                f" over {final['pairs']:,} pairs; trained in {final['train_seconds']:.0f}s"]
