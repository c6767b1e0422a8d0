"""The rules every PNG of the project follows: legends outside the data area, dates on a
time axis, a log scale where positive lines would lie on top of each other, and the saved
image cropped to what is drawn (the legend included)."""

import numpy as np
from matplotlib.figure import Figure

# To the right of the axes, its top at the axes' top: never over a data point.
LEGEND_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0}
# One hollow marker shape per line: lines that coincide still show every shape.
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">")
LINESTYLES = ("-", "--", "-.", ":")


def new_figure(figsize):
    """A figure whose layout makes room for legends and labels outside the axes."""
    return Figure(figsize=figsize, layout="constrained")


def legend_outside(ax, source=None, **options):
    """A legend to the right of the data area of ``ax`` (None when nothing is labelled).

    Args:
        ax: the axes the legend stands beside.
        source: the axes whose labelled artists it lists (default ``ax``).
        options: more `Axes.legend` keywords (``fontsize``, ``ncol``, ...).
    """
    handles, labels = (ax if source is None else source).get_legend_handles_labels()
    if not handles:
        return None
    return ax.legend(handles, labels, **{**LEGEND_OUTSIDE, "fontsize": "small", **options})


def log_scale_if_positive(ax, values):
    """A log y-scale when every value is finite and above 0 (errors, norms); the linear
    scale otherwise (a log axis would drop the zeros). Returns whether it is log.

    Args:
        ax: the axes.
        values: every y value drawn (any nesting of arrays).
    """
    flat = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values]) \
        if len(values) else np.zeros(0)
    positive = flat.size > 0 and bool(np.all(np.isfinite(flat) & (flat > 0)))
    if positive:
        ax.set_yscale("log")
    return positive


def date_axis(ax, times):
    """Dates as the x tick labels of ``ax``: a date locator and a formatter that writes
    whole dates (and the time of day when the rows have one).

    Args:
        ax: axes whose x values are ``times``.
        times: the datetime64 values drawn.
    """
    import matplotlib.dates as mdates

    times = np.asarray(times, "datetime64[ns]")
    daily = bool(np.all(times == times.astype("datetime64[D]")))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=6))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d" if daily else
                                                      "%Y-%m-%d %H:%M"))
    ax.tick_params(axis="x", labelrotation=25, labelrotation_mode="xtick")


def integer_x(ax):
    """Whole numbers only as the x ticks of ``ax`` (epochs, steps)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def save(fig, path, dpi=100):
    """Writes ``fig`` as a PNG cropped to what is drawn (outside legends included) and
    returns it, so a caller or a test can inspect the figure."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig
