"""PNG plots of a run's curves."""

from rnn_pipeline.runs.figures import integer_x, legend_outside, new_figure, save


def plot_curves(rows, final, path, title):
    """Loss and perplexity per epoch (train and valid), with test and unigram references;
    one legend, right of the perplexity panel (train and valid look alike in both).
    Returns the `Figure`.

    Args:
        rows: per-epoch dicts with ``train_loss``, ``valid_loss``, ``*_perplexity``.
        final: final figures (``test_perplexity``, ``unigram_valid_perplexity``).
        path: PNG file to write.
        title: figure title.
    """
    epochs = [r["epoch"] for r in rows]
    fig = new_figure((11, 4))
    ax_loss, ax_ppl = fig.subplots(1, 2)
    for split, style in (("train", "o-"), ("valid", "s-")):
        if rows and f"{split}_loss" in rows[0]:
            ax_loss.plot(epochs, [r[f"{split}_loss"] for r in rows], style, label=split)
            ax_ppl.plot(epochs, [r[f"{split}_perplexity"] for r in rows], style, label=split)
    if "test_perplexity" in final:
        ax_ppl.axhline(final["test_perplexity"], color="tab:green", ls="--",
                       label=f"test {final['test_perplexity']:.1f}")
    if "unigram_valid_perplexity" in final:
        ax_ppl.axhline(final["unigram_valid_perplexity"], color="grey", ls=":",
                       label=f"unigram {final['unigram_valid_perplexity']:.1f}")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy (nats/token)", title="loss")
    ax_ppl.set(xlabel="epoch", ylabel="perplexity", title="perplexity", yscale="log")
    for ax in (ax_loss, ax_ppl):
        ax.grid(True, alpha=0.3)
        integer_x(ax)
    legend_outside(ax_ppl)
    fig.suptitle(title)
    return save(fig, path)
