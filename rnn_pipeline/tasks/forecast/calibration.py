"""Conformal calibration of a quantile forecaster's intervals on the validation windows
(conformalized quantile regression, Romano et al. 2019): each central interval is widened
(or narrowed) by the score quantile that makes it cover its share of the validation
values, and the shift is written into the model, so its export carries it."""

import math

import numpy as np

from rnn_pipeline.tasks.forecast.series.windows import numeric_history


def conformal_shift(lower, upper, actual, share):
    """The CQR shift of one central interval: the ceil((n + 1) share) / n quantile of
    max(lower - y, y - upper) over every value (n of them), on one axis.

    Args:
        lower, upper, actual: arrays of one shape, on the same (scaled) axis.
        share: the interval's nominal coverage, e.g. 0.95.
    """
    scores = np.maximum(lower - actual, actual - upper).ravel()
    n = scores.size
    rank = min(1.0, math.ceil((n + 1) * share) / n)
    return float(np.quantile(scores, rank, method="higher"))


def calibrate_quantiles(model, inputs, actual, log=print):
    """Shifts each central pair of a "quantile" forecaster's levels (level q with 1 - q)
    so that it covers 1 - 2q of the validation values, on the window's own axis.

    Args:
        model: a trained `Forecaster` with ``distribution = "quantile"``.
        inputs, actual: the validation windows, raw.
        log: callable for the line that says what moved.

    Returns:
        {share: (validation coverage before, after)}.
    """
    layer = model.get_layer("distribution")
    levels = layer.quantiles
    output = np.asarray(model.predict_windows(inputs))  # (windows, horizon, targets, Q)
    scale = model.target_std * np.asarray(model.window_scales(numeric_history(inputs)))
    quantiles = output / scale[..., None]  # the scaled axis of the layer's offsets
    truth = np.asarray(actual, np.float64) / scale
    offsets = list(layer.offsets or [0.0] * len(levels))
    pairs = {}
    for i in range(len(levels) // 2):
        j, share = len(levels) - 1 - i, round(levels[-1 - i] - levels[i], 6)
        shift = conformal_shift(quantiles[..., i], quantiles[..., j], truth, share)
        offsets[i], offsets[j] = offsets[i] - shift, offsets[j] + shift
        pairs[share] = (i, j)
    layer.offsets = model.task_config["quantile_offsets"] = offsets  # saved with the model
    model.predict_function = None  # traced again with the shifts
    shifted = np.asarray(model.predict_windows(inputs))
    found = {share: tuple(float(np.mean((actual >= q[..., i]) & (actual <= q[..., j])))
                          for q in (output, shifted)) for share, (i, j) in pairs.items()}
    shown = "; ".join(f"{share:.0%} interval: {before:.1%} -> {after:.1%}"
                      for share, (before, after) in found.items())
    log(f"Intervals: conformal calibration on {len(truth):,} validation windows "
        f"(coverage of the validation values, {shown})")
    return found
