"""The word-level language-model workflow: text -> trained model, perplexity, run folder."""

import math
import time

import tensorflow as tf

from rnn_pipeline.data.corpora import SPLITS, load_corpus
from rnn_pipeline.data.text_pipeline import (fit_text, fitted_text, split_streams,
                                             unigram_log_probs, unigram_perplexity)
from rnn_pipeline.embeddings import (check_embeddings, freeze_callbacks, load_pretrained,
                                     read_vectors)
from rnn_pipeline.errors import config_keys, pipeline_error
from rnn_pipeline.resources import check_memory, recurrent_parts, vocabulary_parts
from rnn_pipeline.runs import RunFolder
from rnn_pipeline.runs.plots import plot_curves
from rnn_pipeline.tasks.causal_lm.adaptive_softmax import check_cutoffs
from rnn_pipeline.tasks.causal_lm.data import check_steps, lm_windows
from rnn_pipeline.tasks.causal_lm.model import build_causal_lm
from rnn_pipeline.tasks.causal_lm.perplexity import evaluate_perplexity, nonfinite_warning
from rnn_pipeline.training.optimizers import ADAPTIVE
from rnn_pipeline.workflows.base import Workflow, say


class LanguageModelWorkflow(Workflow):
    """Args:
        config: a resolved `LanguageModelConfig`.
        log: callable for progress lines.
    """

    metric = "perplexity"
    loss_of_metric = staticmethod(math.log)  # the rows' loss: mean NLL per token
    run_files = {
        RunFolder.VOCAB: "vocabulary, one token per line in id order",
        RunFolder.SENTENCEPIECE: "(sentencepiece tokenizer only)",
        RunFolder.CURVES: "loss and perplexity curves, test and unigram lines",
        RunFolder.EMBEDDING_COVERAGE: "(pretrained vectors) coverage report",
        "diagnostics": "(rnn-pipeline diagnose RUN) gradients through time, clipping plot",
    }
    export_options = ("top_words", "max_tokens_limit", "max_tokens", "temperature",
                      "top_k", "seed")

    def __init__(self, config, log=say):
        super().__init__(config, log)
        self.coverage = None

    # --- preparation: everything that can fail on user input, nothing written ---
    def check(self):
        """Checks the embeddings, the windows and the model settings."""
        train = self.config.train
        check_embeddings(self.config.embeddings)
        lm_windows([0], train.batch_size, train.bptt, eos_id=0)
        cutoffs = [c for c in self.config.model.cutoffs if isinstance(c, int)]
        # the cutoffs' bound, the vocabulary size, is checked once the vocabulary is known
        build_causal_lm(self.config.model, vocabulary_size=max([3, *(c + 1 for c in cutoffs)]),
                        batch_size=train.batch_size)

    def check_replicas(self):
        """Each replica carries the state of its own share of the parallel streams."""
        batch = self.config.train.batch_size
        if batch % self.replicas:
            raise pipeline_error("train.batch_size", f"must divide by the {self.replicas} "
                                 f"replicas of train.strategy "
                                 f"{self.config.train.strategy!r} (each replica carries the "
                                 f"state of batch_size / replicas streams)", batch)

    def load_data(self):
        """Reads the corpus, fits tokenizer and vocabulary (or takes a resumed run's),
        cuts the windows."""
        cfg = self.config
        start = time.perf_counter()
        self.pretrained = None
        if cfg.embeddings.file is not None and not self.fitted_text:  # resumed: checkpoint
            # read (and checked) first: a bad file is the only line, before the data's
            self.pretrained = read_vectors(cfg.embeddings.file, cfg.embeddings.format)
        self.corpus = load_corpus(cfg.data)
        if self.fitted_text:
            self.preprocessor, self.vocabulary = fitted_text(self.fitted_text["text"])
            self.streams = split_streams(self.corpus, self.preprocessor, self.vocabulary, SPLITS)
        else:
            self.preprocessor, self.vocabulary, self.streams = fit_text(
                {name: self.corpus.split(name) for name in SPLITS}, cfg.text,
                seed=cfg.train.seed)
        check_steps(len(self.streams["train"]), cfg.train.batch_size, cfg.train.bptt,
                    self.replicas)
        if cfg.model.head == "adaptive":  # the vocabulary's size is known now
            with config_keys({"cutoffs": "model.cutoffs"}):
                check_cutoffs(cfg.model.cutoffs, len(self.vocabulary))
        self.unigram = {name: unigram_perplexity(self.streams["train"], stream,
                                                 len(self.vocabulary))
                        for name, stream in self.streams.items()}
        self.log(f"Data: {', '.join(f'{k} {len(v):,}' for k, v in self.streams.items())} tokens, "
                 f"vocabulary {len(self.vocabulary):,} ({cfg.text.tokenizer}), "
                 f"prepared in {time.perf_counter() - start:.1f}s")
        self.datasets = {name: self.windows(stream) for name, stream in self.streams.items()}

    def build_model(self):
        """The stateful `CausalLM` with pretrained vectors if any; under Adam/AdamW a tied
        projection's bias starts at the log-unigram of the training split."""
        cfg = self.config
        model = build_causal_lm(cfg.model, len(self.vocabulary),
                                cfg.train.batch_size // self.replicas,
                                seed=cfg.train.seed, preprocessor=self.preprocessor)
        if cfg.train.optimizer in ADAPTIVE:  # SGD: from zero (BENCHMARKS.md, ptb_best)
            model.start_from_unigram(unigram_log_probs(self.streams["train"],
                                                       len(self.vocabulary)))
        if self.pretrained is not None:
            self.coverage = load_pretrained(model.backbone.token_embedding, cfg.embeddings,
                                            self.vocabulary.itos, self.streams["train"],
                                            seed=cfg.train.seed, vectors=self.pretrained)
            for line in self.coverage.lines(cfg.embeddings.file):
                self.log(line)
        return model

    def memory_parts(self, batch=None, batch_key="train.batch_size", steps=None):
        """The embedding, the output layer (none when tied) and the logits of a batch of
        ``steps`` (default ``bptt``) steps over the vocabulary, and the recurrent stack."""
        m, train = self.config.model, self.config.train
        batch = train.batch_size if batch is None else batch
        steps = train.bptt if steps is None else steps
        return [*vocabulary_parts(len(self.vocabulary), m.embedding_dim, m.units, batch,
                                  steps, tied=m.tied(), batch_key=batch_key),
                *recurrent_parts(m, m.embedding_dim, batch, steps, batch_key)]

    @property
    def embedding_layer(self):
        return self.model.backbone.token_embedding

    def windows(self, stream, batch_size=None):
        """The windows (tf.data) of a token stream, with this pipeline's bptt and ``<eos>``.

        Args:
            stream: token ids.
            batch_size: parallel rows; default: the training batch.
        """
        train = self.config.train
        dataset, _ = lm_windows(stream, batch_size or train.batch_size, train.bptt,
                                self.vocabulary.eos_id)
        return dataset.prefetch(tf.data.AUTOTUNE)

    def model_for_batch(self, batch_size):
        """The trained model for ``batch_size`` parallel streams: the model itself at the
        training batch, else a copy of it with that stateful batch size."""
        if batch_size in (None, self.config.train.batch_size):
            return self.model
        copy = build_causal_lm(self.config.model, len(self.vocabulary), batch_size)
        copy.set_weights(self.model.get_weights())  # every weight, a frozen embedding too
        copy.compile()
        return copy

    # --- training ---
    def fitted_text_configs(self):
        return {"text": self.preprocessor.get_config()}

    def save_assets(self, run):
        run.save_text_assets(self.vocabulary, getattr(self.preprocessor.tokenizer, "model", None))
        if self.coverage is not None:
            self.coverage.save(run.file(run.EMBEDDING_COVERAGE), self.config.embeddings.file)

    def training_callbacks(self):
        return freeze_callbacks(self.embedding_layer, self.config.embeddings, self.log)

    def finish(self, run, rows, seconds):
        """Perplexity of every split against the unigram baseline, metrics and curves."""
        final = self.evaluate_all()
        warning = nonfinite_warning(final, run.path)
        if warning:
            self.log(warning)
        run.save_metrics(rows, final)
        m = self.config.model
        plot_curves(rows, final, run.file(run.CURVES),
                    title=f"{self.config.name}: {m.num_layers}x{m.units} {m.cell}")
        return final

    def evaluate_all(self):
        """Perplexity of every split from a zero state, with progress lines, and the
        unigram baseline's."""
        final = {}
        for name, dataset in self.datasets.items():
            final[f"{name}_perplexity"] = evaluate_perplexity(
                self.model, dataset, log=self.log, what=f"evaluating {name}")["perplexity"]
            final[f"unigram_{name}_perplexity"] = self.unigram[name]
            final[f"{name}_tokens"] = int(len(self.streams[name]))
        return final

    # --- evaluating a finished run ---
    def read_assets(self, run):
        self.vocabulary = run.load_vocabulary()

    def restore(self, run):
        self.preprocessor = self.model.preprocessor

    def run_streams(self, splits):
        """Token streams {split: ids} of a loaded run's corpus, with its own preprocessor.

        Args:
            splits: split names; an unknown one raises the corpus' error.
        """
        corpus = load_corpus(self.config.data)
        for split in splits:
            corpus.split(split)  # validates the name
        return split_streams(corpus, self.preprocessor, self.vocabulary, tuple(splits))

    def evaluate_split(self, split, batch_size=None):
        """Perplexity of the loaded model on one split, from a zero state.

        Args:
            split: "train", "valid" or "test".
            batch_size: parallel streams the split is cut into (default: the training
                batch); 1 reads it as one stream, as Zaremba et al. and TensorFlow's PTB
                tutorial report test perplexity (only the first token of each row starts
                from a zero state).
        """
        if batch_size not in (None, self.config.train.batch_size):
            check_memory(self.memory_parts(batch_size, "--batch-size"), purpose="evaluating")
        stream = self.run_streams((split,))[split]
        if batch_size is not None and batch_size > len(stream):
            raise pipeline_error("--batch-size", f"must be at most the {len(stream):,} tokens "
                                 f"of the {split} split (a stream per token at most)",
                                 batch_size)
        result = evaluate_perplexity(self.model_for_batch(batch_size),
                                     self.windows(stream, batch_size))
        result["tokens"] = int(len(stream))
        return result

    def evaluate(self, split, batch_size=None):
        """``rnn-pipeline evaluate``: the split's perplexity (`evaluate_split`) over
        ``batch_size`` parallel streams (default: the training batch)."""
        result = self.evaluate_split(split, batch_size)
        return {"split": split, **result,
                "parallel_streams": batch_size or self.config.train.batch_size}

    def evaluation_lines(self, split, figures):
        rows = figures["parallel_streams"]
        return [f"{split} perplexity {figures['perplexity']:.2f} (loss {figures['loss']:.4f} "
                f"nats/token over {figures['tokens']:,} tokens, {rows} parallel "
                f"stream{'s' if rows > 1 else ''})"]

    def make_serving_module(self, assets_dir, top_words=10, max_tokens_limit=1000,
                            **defaults):
        """The TF Serving module of the trained model (see `LanguageModelServing`;
        ``defaults``: serving_default's generation options)."""
        from rnn_pipeline.tasks.causal_lm.serving import LanguageModelServing

        return LanguageModelServing(self.model, assets_dir, top_words=top_words,
                                    max_tokens_limit=max_tokens_limit, **defaults)

    @staticmethod
    def summary(final):
        """Human-readable lines: perplexity per split against the unigram baseline."""
        lines = []
        for split in ("train", "valid", "test"):
            ppl, uni = final[f"{split}_perplexity"], final[f"unigram_{split}_perplexity"]
            bits = math.log2(uni / ppl)  # nan when ppl is
            verdict = f"{abs(bits):.2f} bits/token {'worse' if bits < 0 else 'better'}"
            lines.append(f"{split:>5} perplexity {ppl:9.2f}   (unigram {uni:9.2f}; "
                         f"{verdict}) over {final[f'{split}_tokens']:,} tokens")
        return lines
