"""PNG plots of a run's curves."""

from matplotlib.figure import Figure


def plot_curves(rows, final, path, title):
    """Loss and perplexity per epoch (train and valid), with test and unigram references.

    Args:
        rows: per-epoch dicts with ``train_loss``, ``valid_loss``, ``*_perplexity``.
        final: final figures (``test_perplexity``, ``unigram_valid_perplexity``).
        path: PNG file to write.
        title: figure title.
    """
    epochs = [r["epoch"] for r in rows]
    fig = Figure(figsize=(10, 4))
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
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
