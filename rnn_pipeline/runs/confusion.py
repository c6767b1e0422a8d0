"""Figures of a classification by labels: a confusion matrix (POS tags, spoken digits)
and the F1 of each entity type against the most-frequent-tag baseline (NER)."""

import collections

import numpy as np
from matplotlib.figure import Figure

from rnn_pipeline.runs.figures import legend_outside, new_figure, save
from rnn_pipeline.runs.fonts import fonts_for

CONFUSION_PNG, ENTITY_F1_PNG = "confusion_matrix.png", "entity_f1.png"


def confusion_counts(gold, predicted, tags):
    """(tags, tags) int matrix: row = gold tag, column = predicted tag, over every token.

    Args:
        gold: gold tag sequences (one label per example: one-element sequences).
        predicted: predicted tag sequences, aligned with ``gold``.
        tags: the tag names, in row/column order.
    """
    index = {tag: i for i, tag in enumerate(tags)}
    counts = np.zeros((len(tags), len(tags)), np.int64)
    pairs = collections.Counter((g, p) for gs, ps in zip(gold, predicted)
                                for g, p in zip(gs, ps))
    for (g, p), count in pairs.items():
        counts[index[g], index[p]] += count
    return counts


def plot_confusion(counts, tags, path, title):
    """Row-normalised confusion matrix (each gold tag's share of predictions), with the
    counts off the diagonal where they are not 0. Returns the `Figure`.

    Args:
        counts: (tags, tags) from `confusion_counts`.
        tags: the tag names.
        path: PNG file to write.
        title: figure title.
    """
    with fonts_for(tags):
        return _draw_confusion(counts, tags, path, title)


def _draw_confusion(counts, tags, path, title):
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    size = max(5.0, 0.45 * len(tags) + 2)
    fig = Figure(figsize=(size + 1, size))
    ax = fig.subplots()
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true label's examples")
    ax.set_xticks(range(len(tags)), tags, rotation=90)
    ax.set_yticks(range(len(tags)), tags)
    if len(tags) <= 30:
        for (row, column), count in np.ndenumerate(counts):
            if count and row != column:
                ax.text(column, row, str(count), ha="center", va="center", fontsize=6,
                        color="white" if shares[row, column] > 0.5 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return save(fig, path)


def plot_entity_f1(model_scores, baseline_scores, path, title):
    """F1 per entity type (and overall), the model's bars beside the baseline's, the
    legend right of the bars (an F1 near 100 reaches the right edge). Returns the `Figure`.

    Args:
        model_scores: the model's `entity_scores` of one split.
        baseline_scores: the baseline's, same split.
        path: PNG file to write.
        title: figure title.
    """
    with fonts_for(model_scores["per_type"]):
        return _draw_entity_f1(model_scores, baseline_scores, path, title)


def _draw_entity_f1(model_scores, baseline_scores, path, title):
    types = sorted(model_scores["per_type"], key=lambda t: -model_scores["per_type"][t]
                   ["support"])
    labels = ["overall"] + [f"{t} ({model_scores['per_type'][t]['support']})" for t in types]

    def f1s(scores):
        per_type = scores["per_type"]
        return [100 * scores["f1"]] + [100 * per_type.get(t, {}).get("f1", 0.0) for t in types]

    y = np.arange(len(labels))
    fig = new_figure((9, max(3.0, 0.4 * len(labels) + 1.5)))
    ax = fig.subplots()
    ax.barh(y - 0.2, f1s(model_scores), height=0.4, label="model")
    ax.barh(y + 0.2, f1s(baseline_scores), height=0.4, label="most frequent tag",
            color="grey")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set(xlabel="entity F1 (%)  (type, gold entities)", xlim=(0, 100), title=title)
    ax.grid(True, axis="x", alpha=0.3)
    legend_outside(ax)
    return save(fig, path)
