"""PNG plots of the gradient diagnostics."""

import numpy as np
from matplotlib.figure import Figure

CELL_COLORS = {"simple_rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green"}


def plot_through_time(curves, path, title):
    """log10 ||dL_T/ds_t|| against the distance T - t, one line per cell and state.

    Args:
        curves: {(cell, "fresh" | "trained"): (T,) norms for t = 1..T}.
        path: PNG file to write.
        title: figure title.
    """
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for (cell, state), norms in curves.items():
        norms = np.asarray(norms, dtype=float)
        distance = np.arange(len(norms))[::-1]  # t = 1..T -> T-1..0
        label = f"{cell}, {state}"
        if np.any(norms == 0):  # underflowed below float32's range: not drawn
            label += f" (0 from distance {distance[norms == 0].min()})"
        log_norms = np.log10(np.where(norms > 0, norms, np.nan))
        ax.plot(distance, log_norms, "-" if state == "trained" else "--",
                color=CELL_COLORS.get(cell), label=label)
    ax.set(xlabel="distance T - t (steps back from the loss)",
           ylabel="log10 ||dL_T / ds_t||", title=title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_clipping(log, path, title, threshold=None, kind=None):
    """The global gradient norm of every step (log scale) and the share of clipped steps.

    Args:
        log: per-step columns (`read_gradient_log`): step, epoch, grad_norm, clipped.
        path: PNG file to write.
        title: figure title.
        threshold: the ``global_clipnorm`` drawn as a line (None: no line).
        kind: "clipnorm" or "global_clipnorm" (for the legend), or None without clipping.
    """
    fig = Figure(figsize=(11, 4))
    ax_norm, ax_share = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    clipped = log["clipped"] > 0
    ax_norm.plot(log["step"], log["grad_norm"], lw=0.6, color="tab:blue",
                 label="global norm before clipping")
    ax_norm.plot(log["step"][clipped], log["grad_norm"][clipped], ".", ms=2, color="tab:red",
                 label="clipped steps")
    if threshold is not None and kind == "global_clipnorm":
        ax_norm.axhline(threshold, color="black", ls="--", label=f"global_clipnorm {threshold}")
    ax_norm.set(xlabel="step", ylabel="gradient norm", yscale="log", title="gradient norm")
    ax_norm.grid(True, alpha=0.3)
    ax_norm.legend(fontsize=8)
    epochs = np.unique(log["epoch"]).astype(int)
    shares = [clipped[log["epoch"] == e].mean() for e in epochs]
    ax_share.bar(epochs, shares, color="tab:red")
    ax_share.set(xlabel="epoch", ylabel="share of steps clipped", ylim=(0, 1),
                 title=f"clipped ({kind or 'no clipping'})")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
