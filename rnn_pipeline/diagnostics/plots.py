"""PNG plots of the gradient diagnostics."""

import numpy as np

from rnn_pipeline.runs.figures import integer_x, legend_outside, new_figure, save

CELL_COLORS = {"simple_rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green"}


def plot_through_time(curves, path, title):
    """log10 ||dL_T/ds_t|| against the distance T - t, one line per cell and state (the
    trained line wide and pale, so a fresh line on top of it shows). Returns the `Figure`.

    Args:
        curves: {(cell, "fresh" | "trained"): (T,) norms for t = 1..T}.
        path: PNG file to write.
        title: figure title.
    """
    fig = new_figure((8.5, 4.5))
    ax = fig.subplots()
    for (cell, state), norms in curves.items():
        norms = np.asarray(norms, dtype=float)
        distance = np.arange(len(norms))[::-1]  # t = 1..T -> T-1..0
        label = f"{cell}, {state}"
        if np.any(norms == 0):  # underflowed below float32's range: not drawn
            label += f" (0 from distance {distance[norms == 0].min()})"
        log_norms = np.log10(np.where(norms > 0, norms, np.nan))
        trained = state == "trained"  # wide and pale under the thin dashed fresh line
        ax.plot(distance, log_norms, "-" if trained else "--", color=CELL_COLORS.get(cell),
                label=label, lw=2.6 if trained else 1.2, alpha=0.55 if trained else 1.0,
                zorder=2 if trained else 3)
    ax.set(xlabel="distance T - t (steps back from the loss)",
           ylabel="log10 ||dL_T / ds_t||", title=title)
    ax.grid(True, alpha=0.3)
    integer_x(ax)
    legend_outside(ax)
    return save(fig, path)


def plot_clipping(log, path, title, threshold=None, kind=None):
    """The global gradient norm of every step (log scale) and the share of clipped steps
    per epoch. When no step was clipped, the share panel (all zeros) is left out and the
    norm panel's title says so. Returns the `Figure`.

    Args:
        log: per-step columns (`read_gradient_log`): step, epoch, grad_norm, clipped.
        path: PNG file to write.
        title: figure title.
        threshold: the ``global_clipnorm`` drawn as a line (None: no line).
        kind: "clipnorm" or "global_clipnorm" (for the legend), or None without clipping.
    """
    clipped = log["clipped"] > 0
    setting = f"{kind} {threshold:g}" if kind and threshold else "no clipping"
    fig = new_figure((11, 4) if clipped.any() else (8.5, 4))
    if clipped.any():
        ax_norm, ax_share = fig.subplots(1, 2, width_ratios=[3, 1])
    else:
        ax_norm, ax_share = fig.subplots(), None
    ax_norm.plot(log["step"], log["grad_norm"], lw=0.6, color="tab:blue",
                 label="global norm before clipping")
    if threshold is not None and kind == "global_clipnorm":
        ax_norm.axhline(threshold, color="black", ls="--", label=f"global_clipnorm {threshold}")
    ax_norm.set(xlabel="step", ylabel="gradient norm", yscale="log", title="gradient norm")
    ax_norm.grid(True, alpha=0.3)
    if ax_share is None:
        ax_norm.set_title(f"gradient norm: no step was clipped ({setting})")
    else:
        ax_norm.plot(log["step"][clipped], log["grad_norm"][clipped], ".", ms=2,
                     color="tab:red", label="clipped steps")
        epochs = np.unique(log["epoch"]).astype(int)
        shares = [clipped[log["epoch"] == e].mean() for e in epochs]
        ax_share.bar(epochs, shares, color="tab:red")
        ax_share.set(xlabel="epoch", ylabel="share of steps clipped", ylim=(0, 1),
                     title=f"clipped ({setting})")
        integer_x(ax_share)
    legend_outside(ax_norm if ax_share is None else ax_share, source=ax_norm)  # at the right
    fig.suptitle(title)
    return save(fig, path)
