"""The speech figures: an utterance's log-mel spectrogram with its CTC alignment (the most
likely symbol of every frame) under it."""

import numpy as np
from matplotlib.figure import Figure

from rnn_pipeline.runs.figures import save
from rnn_pipeline.runs.fonts import fonts_for

ALIGNMENT_PNG = "ctc_alignment.png"


def plot_alignment(frames, symbols, labels, subsample, path, title):
    """Log-mel frames on top; below, each model frame's most likely symbol (a label, or
    the blank drawn as "-"), placed over the input frames it covers. Returns the `Figure`.

    Args:
        frames: (time, n_mels) the utterance's real frames.
        symbols: (model frames,) label ids, ``len(labels)`` for the blank, -1 on padding.
        labels: the label names.
        subsample: input frames per model frame.
        path: PNG file to write.
        title: figure title (e.g. the reference and the hypothesis).
    """
    with fonts_for(labels):
        fig = Figure(figsize=(10, 4.5))
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        top.imshow(np.asarray(frames).T, origin="lower", aspect="auto", cmap="magma")
        top.set(ylabel="mel band", title=title)
        names = list(labels) + ["-"]
        previous = None
        for index, symbol in enumerate(np.asarray(symbols)):
            if symbol < 0:
                break
            start = index * subsample
            blank = symbol == len(labels)
            bottom.axvspan(start, start + subsample, color="lightgrey" if blank else
                           "tab:orange", alpha=0.6, lw=0)
            if not blank and symbol != previous:
                bottom.text(start + subsample / 2, 0.5, names[symbol], ha="center",
                            va="center", fontsize=10)
            previous = symbol
        bottom.set(yticks=[], xlabel="input frame (10 ms)", ylabel="CTC")
        fig.tight_layout()
        return save(fig, path)
