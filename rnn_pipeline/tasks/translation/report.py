"""Scoring translations with sacrebleu (BLEU, chrF), by source length, and its plot."""

import sacrebleu

from rnn_pipeline.generation.detokenize import UNSEGMENTED_LANGUAGES
from rnn_pipeline.runs.figures import legend_outside, new_figure, save

LENGTH_BUCKETS = ((1, 5), (6, 10), (11, 15), (16, 20), (21, 1000))


def bleu_tokenize(target_language):
    """sacrebleu's tokenizer for a target: "char" for scripts written without spaces
    (Japanese: no MeCab needed, every character is a token), else sacrebleu's default
    "13a", so that scores compare with published ones. Translations are detokenized
    before scoring (`generation.detokenize`), as the references are written."""
    return "char" if target_language in UNSEGMENTED_LANGUAGES else "13a"


def score(hypotheses, references, target_language):
    """Corpus BLEU and chrF (sacrebleu), with the signature that says how.

    Args:
        hypotheses, references: lists of strings, one reference per hypothesis.
        target_language: ISO code of the target, e.g. "ja" or "es".
    """
    bleu = sacrebleu.metrics.BLEU(tokenize=bleu_tokenize(target_language))
    chrf = sacrebleu.metrics.CHRF()
    refs = [list(references)]
    result_bleu, result_chrf = bleu.corpus_score(hypotheses, refs), chrf.corpus_score(
        hypotheses, refs)
    return {"bleu": result_bleu.score, "chrf": result_chrf.score, "pairs": len(hypotheses),
            "bleu_signature": str(bleu.get_signature()),
            "chrf_signature": str(chrf.get_signature())}


def score_by_length(sources, hypotheses, references, target_language):
    """`score` per bucket of source length in whitespace words (empty buckets left out)."""
    rows = []
    for low, high in LENGTH_BUCKETS:
        picks = [i for i, s in enumerate(sources) if low <= len(s.split()) <= high]
        if picks:
            result = score([hypotheses[i] for i in picks], [references[i] for i in picks],
                           target_language)
            rows.append({"source_words": f"{low}-{high}" if high < 1000 else f"{low}+",
                         "bleu": result["bleu"], "chrf": result["chrf"], "pairs": len(picks)})
    return rows


def plot_by_length(curves, path, metric="bleu", title=""):
    """BLEU (or chrF) against source length, one line per run, the legend right of the
    axes. Returns the `Figure`.

    Args:
        curves: {label: rows of `score_by_length`}.
        path: PNG file.
    """
    fig = new_figure((8.5, 4))
    ax = fig.subplots()
    for label, rows in curves.items():
        ax.plot([r["source_words"] for r in rows], [r[metric] for r in rows], marker="o",
                label=label)
    ax.set(xlabel="source length (words)", ylabel=metric.upper() if metric == "bleu" else "chrF",
           title=title)
    ax.grid(True, alpha=0.3)
    legend_outside(ax)
    return save(fig, path, dpi=90)
